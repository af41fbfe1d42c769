import { createHash } from 'node:crypto';
import type { CredentialField } from '../credential-fields.ts';
import { credential, missingCredentials } from '../credential-fields.ts';
import { baseUrl, callProvider, classifyHttpStatus, failure, isRecord, retryAfterMs, str, timeoutMs, type ProviderResponse } from '../http-call.ts';
import { validateCommonMessage } from '../message-limits.ts';
import type { BatchSendRequest, ChannelRuntime, FailureClass, MessageContent, ProviderAdapter, RenderedMessage, SendOutcome, TestConnectionResult } from '../types.ts';

/**
 * LINE Messaging API. Push for one user, multicast for up to 500 (one request instead of 500,
 * the reason LINE campaigns scale). Both carry `X-Line-Retry-Key`: LINE refuses a repeat of an
 * accepted key with 409, so a retry after a lost answer can never deliver twice, and the
 * engine may safely re-send recipients whose outcome was lost in a crash.
 *
 * A user who blocked the account still gets 200 (silently not delivered); only the `unfollow`
 * webhook tells. So `recipient_blocked` never comes from a send here.
 */

export const LINE_CREDENTIALS: readonly CredentialField[] = [
  { name: 'channelAccessToken', required: true, description: 'long-lived or v2.1 channel access token' },
  { name: 'channelSecret', required: true, description: 'channel secret, to verify webhook signatures' },
];

const DEFAULT_BASE = 'https://api.line.me';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * LINE requires the retry key to be a UUID. The engine passes one; any other key is hashed into
 * a stable UUID (version 5 layout) so retries of the same key still share it.
 */
export function lineRetryKey(idempotencyKey: string): string {
  if (UUID.test(idempotencyKey)) return idempotencyKey.toLowerCase();
  const h = createHash('sha1').update(`herald-line-retry-key:${idempotencyKey}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** LINE images have no caption, so a caption goes out as a second message in the same request. */
export function lineMessages(message: RenderedMessage): Record<string, unknown>[] {
  switch (message.type) {
    case 'text':
      return [{ type: 'text', text: message.text }];
    case 'image': {
      const image = { type: 'image', originalContentUrl: message.url, previewImageUrl: message.url };
      return message.caption ? [image, { type: 'text', text: message.caption }] : [image];
    }
    case 'template':
      return [];
  }
}

/**
 * LINE's answers by HTTP status. A 400 about the message body (`details[].property` starting
 * with `messages`) is a content problem; any other 400 (a user ID unknown to the channel:
 * "Failed to send messages") is the recipient's.
 */
export function classifyLineError(status: number, body: unknown): FailureClass {
  if (status === 400) {
    const details = isRecord(body) && Array.isArray(body.details) ? body.details : [];
    const aboutMessages = details.some((d) => isRecord(d) && typeof d.property === 'string' && d.property.startsWith('messages'));
    return aboutMessages ? 'content_rejected' : 'invalid_recipient';
  }
  return classifyHttpStatus(status);
}

function lineFailure(res: ProviderResponse) {
  const body = isRecord(res.json) ? res.json : {};
  const details = (Array.isArray(body.details) ? body.details : [])
    .filter(isRecord)
    .map((d) => (d.property ? `${str(d.property)}: ${str(d.message)}` : str(d.message)))
    .filter(Boolean);
  const base = str(body.message) ?? `HTTP ${res.status}`;
  const message = details.length ? `${base}: ${details.join('; ')}` : base;
  const errorClass = classifyLineError(res.status, body);
  return failure(errorClass, String(res.status), message, errorClass === 'rate_limited' ? retryAfterMs(res.headers) : undefined);
}

function headers(channel: ChannelRuntime): Record<string, string> {
  return { authorization: `Bearer ${credential(channel.credentials, 'channelAccessToken')}`, 'content-type': 'application/json' };
}

async function post(channel: ChannelRuntime, path: string, body: unknown, idempotencyKey: string, signal?: AbortSignal): Promise<SendOutcome> {
  const problems = missingCredentials(LINE_CREDENTIALS.filter((f) => f.name === 'channelAccessToken'), channel.credentials);
  if (problems.length) return failure('channel_auth', 'missing_credentials', problems.join('; '));
  const result = await callProvider(`${baseUrl(channel.settings, DEFAULT_BASE)}${path}`, {
    method: 'POST',
    headers: { ...headers(channel), 'x-line-retry-key': lineRetryKey(idempotencyKey) },
    body: JSON.stringify(body),
    timeoutMs: timeoutMs(channel.settings),
    signal,
  });
  if (!result.ok) return result.failure;
  const res = result.response;
  if (res.status === 200) {
    const sent = isRecord(res.json) && Array.isArray(res.json.sentMessages) ? res.json.sentMessages : [];
    const id = isRecord(sent[0]) ? str(sent[0].id) : undefined;
    // Multicast answers `{}`: the request id is the only handle LINE gives.
    return { ok: true, providerMessageId: id ?? res.headers.get('x-line-request-id') };
  }
  // 409: this retry key was already accepted (our earlier attempt got through): delivered once.
  if (res.status === 409) return { ok: true, providerMessageId: res.headers.get('x-line-accepted-request-id') };
  return lineFailure(res);
}

const unsupported = () => failure('content_rejected', 'unsupported', 'LINE channels do not take WhatsApp templates');

export const lineAdapter: ProviderAdapter = {
  name: 'line',
  // Push endpoint limit per channel; multicast is lower (about 200 requests/s) but carries 500 users each.
  defaultRatePerSecond: 2000,
  supportsIdempotencyKey: true,
  maxBatchSize: 500,

  validateMessage(message: MessageContent): string[] {
    // The caption becomes its own text message, so it has the text limit.
    const errors = validateCommonMessage(message, { textMax: 5000, captionMax: 5000, templates: false });
    if (message.type === 'image' && /^http:\/\//i.test(message.url)) errors.push('LINE only takes https image URLs');
    return errors;
  },

  validateCredentials(credentials) {
    return missingCredentials(LINE_CREDENTIALS, credentials);
  },

  async send(req) {
    if (req.message.type === 'template') return unsupported();
    const body = { to: req.providerUserId, messages: lineMessages(req.message), notificationDisabled: false };
    return post(req.channel, '/v2/bot/message/push', body, req.idempotencyKey, req.signal);
  },

  async sendBatch(req: BatchSendRequest) {
    if (req.message.type === 'template') return unsupported();
    if (req.providerUserIds.length === 0 || req.providerUserIds.length > 500) {
      return failure('content_rejected', 'batch_size', `multicast takes 1 to 500 user IDs, got ${req.providerUserIds.length}`);
    }
    const body = { to: req.providerUserIds, messages: lineMessages(req.message), notificationDisabled: false };
    return post(req.channel, '/v2/bot/message/multicast', body, req.idempotencyKey, req.signal);
  },

  async testConnection(channel): Promise<TestConnectionResult> {
    const problems = missingCredentials(LINE_CREDENTIALS, channel.credentials);
    if (problems.length) return failure('channel_auth', 'missing_credentials', problems.join('; '));
    const result = await callProvider(`${baseUrl(channel.settings, DEFAULT_BASE)}/v2/bot/info`, {
      method: 'GET',
      headers: { authorization: `Bearer ${credential(channel.credentials, 'channelAccessToken')}` },
      timeoutMs: timeoutMs(channel.settings),
    });
    if (!result.ok) return result.failure;
    const res = result.response;
    if (res.status !== 200) {
      const { errorClass, code, message } = lineFailure(res);
      return { ok: false, errorClass: errorClass === 'invalid_recipient' ? 'channel_auth' : errorClass, code, message };
    }
    const body = isRecord(res.json) ? res.json : {};
    return { ok: true, details: { userId: body.userId, basicId: body.basicId, displayName: body.displayName } };
  },
};
