import { credential } from '../credential-fields.ts';
import { isRecord, str } from '../http-call.ts';
import { headerValue, parseJsonBody, safeEqual, WebhookParseError, type ProviderWebhook, type WebhookEvent, type WebhookParseInput, type WebhookVerifyInput } from '../webhook-types.ts';

/**
 * Telegram updates. Telegram does not sign bodies: it echoes the `secret_token` given to
 * setWebhook in `X-Telegram-Bot-Api-Secret-Token`. A channel without `webhookSecret` cannot
 * prove anything, so its webhooks are refused. One update carries one change, keyed by
 * `update_id`. The chat id is the provider user id (the adapter sends to chat ids).
 */

export function verifyTelegramSecret(input: WebhookVerifyInput): boolean {
  const secret = credential(input.credentials, 'webhookSecret');
  const header = headerValue(input.headers, 'x-telegram-bot-api-secret-token');
  if (!secret || header === undefined) return false;
  return safeEqual(header, secret);
}

function chatName(chat: Record<string, unknown>): string | undefined {
  const title = str(chat.title);
  if (title) return title;
  const full = [str(chat.first_name), str(chat.last_name)].filter(Boolean).join(' ');
  return full || str(chat.username);
}

/** Bot's status in the chat: `kicked` = blocked by the user (private) or removed (group). */
const GONE = new Set(['kicked', 'left']);

export function parseTelegramUpdate(input: WebhookParseInput): WebhookEvent[] {
  const update = parseJsonBody(input.rawBody);
  if (!isRecord(update) || typeof update.update_id !== 'number') throw new WebhookParseError('not a Telegram update: no update_id');
  const key = `telegram:${update.update_id}`;
  const message = isRecord(update.message) ? update.message : null;
  if (message && isRecord(message.chat)) {
    const chatId = str(message.chat.id);
    if (!chatId) return [];
    const name = chatName(message.chat);
    return [name ? { kind: 'member', providerUserId: chatId, name, dedupeKey: key } : { kind: 'member', providerUserId: chatId, dedupeKey: key }];
  }
  const change = isRecord(update.my_chat_member) ? update.my_chat_member : null;
  if (change && isRecord(change.chat)) {
    const chatId = str(change.chat.id);
    const now = isRecord(change.new_chat_member) ? str(change.new_chat_member.status) : undefined;
    const before = isRecord(change.old_chat_member) ? str(change.old_chat_member.status) : undefined;
    if (!chatId || !now) return [];
    if (GONE.has(now)) return [{ kind: 'opt_out', providerUserId: chatId, dedupeKey: key }];
    // Unblocked (or re-added to a group): the chat takes messages again.
    if (before && GONE.has(before)) return [{ kind: 'opt_in', providerUserId: chatId, dedupeKey: key }];
  }
  return [];
}

export const telegramWebhook: ProviderWebhook = {
  provider: 'telegram',
  verify: verifyTelegramSecret,
  parse: parseTelegramUpdate,
};
