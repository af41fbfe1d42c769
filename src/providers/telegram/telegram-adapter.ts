import type { CredentialField } from '../credential-fields.ts';
import { credential, missingCredentials } from '../credential-fields.ts';
import { baseUrl, callProvider, classifyHttpStatus, failure, isRecord, retryAfterMs, str, timeoutMs, type Failure, type ProviderResponse } from '../http-call.ts';
import { validateCommonMessage } from '../message-limits.ts';
import type { ChannelRuntime, FailureClass, MessageContent, ProviderAdapter, RenderedMessage, SendOutcome, TestConnectionResult } from '../types.ts';

/**
 * Telegram Bot API: `POST /bot<token>/<method>` with JSON. Errors are `{ok:false, error_code,
 * description, parameters}` where the HTTP status equals error_code and the description is the
 * only finer signal, so 400s are told apart by text. No idempotency key, no delivery receipts.
 */

export const TELEGRAM_CREDENTIALS: readonly CredentialField[] = [
  { name: 'botToken', required: true, description: 'bot token from @BotFather' },
  { name: 'webhookSecret', required: false, description: 'secret_token given to setWebhook, to verify webhooks' },
];

const DEFAULT_BASE = 'https://api.telegram.org';

/** 400s that mean the chat itself is unusable, not the message. */
const RECIPIENT_400 = [/chat not found/i, /user not found/i, /PEER_ID_INVALID/, /chat_id is empty/i, /upgraded to a supergroup/i];

export function classifyTelegramError(status: number, description: string): FailureClass {
  if (status === 429) return 'rate_limited';
  // "bot was blocked by the user", "user is deactivated", "bot was kicked from the group chat".
  if (status === 403) return 'recipient_blocked';
  // 404 is what Telegram answers for a malformed token in the path.
  if (status === 401 || status === 404) return 'channel_auth';
  if (status === 400) return RECIPIENT_400.some((re) => re.test(description)) ? 'invalid_recipient' : 'content_rejected';
  return classifyHttpStatus(status);
}

function telegramFailure(res: ProviderResponse): Failure {
  const body = isRecord(res.json) ? res.json : {};
  const status = typeof body.error_code === 'number' ? body.error_code : res.status;
  const description = str(body.description) ?? `HTTP ${res.status}`;
  const errorClass = classifyTelegramError(status, description);
  let wait: number | undefined;
  if (errorClass === 'rate_limited') {
    const params = isRecord(body.parameters) ? body.parameters : {};
    wait = typeof params.retry_after === 'number' ? params.retry_after * 1000 : retryAfterMs(res.headers);
  }
  return failure(errorClass, String(status), description, wait);
}

/** Numeric chat ids go as numbers; `@channelusername` stays a string. */
function chatId(providerUserId: string): number | string {
  return /^-?\d{1,15}$/.test(providerUserId) ? Number(providerUserId) : providerUserId;
}

export function telegramRequest(providerUserId: string, message: RenderedMessage): { method: string; body: Record<string, unknown> } | null {
  const chat_id = chatId(providerUserId);
  if (message.type === 'text') return { method: 'sendMessage', body: { chat_id, text: message.text } };
  if (message.type === 'image') {
    return { method: 'sendPhoto', body: message.caption === undefined ? { chat_id, photo: message.url } : { chat_id, photo: message.url, caption: message.caption } };
  }
  return null;
}

async function call(channel: ChannelRuntime, method: string, body: unknown, signal?: AbortSignal) {
  const token = credential(channel.credentials, 'botToken');
  return callProvider(`${baseUrl(channel.settings, DEFAULT_BASE)}/bot${token}/${method}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    timeoutMs: timeoutMs(channel.settings),
    signal,
  });
}

function missing(channel: ChannelRuntime): Failure | null {
  const problems = missingCredentials(TELEGRAM_CREDENTIALS, channel.credentials);
  return problems.length ? failure('channel_auth', 'missing_credentials', problems.join('; ')) : null;
}

export const telegramAdapter: ProviderAdapter = {
  name: 'telegram',
  // Telegram's bulk guidance; at most 1/s to the same chat, which a broadcast never hits.
  defaultRatePerSecond: 30,
  supportsIdempotencyKey: false,

  validateMessage(message: MessageContent): string[] {
    return validateCommonMessage(message, { textMax: 4096, captionMax: 1024, templates: false });
  },

  validateCredentials(credentials) {
    return missingCredentials(TELEGRAM_CREDENTIALS, credentials);
  },

  async send(req): Promise<SendOutcome> {
    const bad = missing(req.channel);
    if (bad) return bad;
    const request = telegramRequest(req.providerUserId, req.message);
    if (!request) return failure('content_rejected', 'unsupported', 'Telegram channels do not take WhatsApp templates');
    const result = await call(req.channel, request.method, request.body, req.signal);
    if (!result.ok) return result.failure;
    const res = result.response;
    const body = isRecord(res.json) ? res.json : {};
    if (res.status !== 200 || body.ok !== true) return telegramFailure(res);
    const message = isRecord(body.result) ? body.result : {};
    const messageId = str(message.message_id);
    const chat = isRecord(message.chat) ? str(message.chat.id) : undefined;
    // message_id is only unique within a chat, so the chat id is part of Herald's id.
    return { ok: true, providerMessageId: messageId ? `${chat ?? req.providerUserId}:${messageId}` : null };
  },

  async testConnection(channel): Promise<TestConnectionResult> {
    const bad = missing(channel);
    if (bad) return bad;
    const result = await call(channel, 'getMe', undefined);
    if (!result.ok) return result.failure;
    const res = result.response;
    const body = isRecord(res.json) ? res.json : {};
    if (res.status !== 200 || body.ok !== true) {
      const { errorClass, code, message } = telegramFailure(res);
      return { ok: false, errorClass, code, message };
    }
    const me = isRecord(body.result) ? body.result : {};
    return { ok: true, details: { id: me.id, username: me.username, firstName: me.first_name } };
  },
};
