import { isRecord, str } from '../http-call.ts';
import { metaHandshake, verifyMetaSignature } from '../meta-graph.ts';
import { parseJsonBody, WebhookParseError, type ProviderWebhook, type WebhookEvent, type WebhookParseInput } from '../webhook-types.ts';

/**
 * Messenger webhooks: `{object:"page", entry[].messaging[]}`, signed like WhatsApp's.
 * - `message` / `postback` from a user → member (echoes of the Page's own messages are skipped);
 * - `delivery.mids[]` → one delivered receipt per message id;
 * - `read.watermark` → a read watermark: every message to that user before it was read;
 * - `optin` of type `notification_messages` (Meta's Marketing Messages opt-in) → opt_in, with
 *   `notification_messages_status: STOP_NOTIFICATIONS` → opt_out.
 * Redeliveries repeat the same payload, so keys are built from mids, sender and watermarks.
 */

function parseMessaging(m: Record<string, unknown>, receivedAt: number): WebhookEvent[] {
  const psid = isRecord(m.sender) ? str(m.sender.id) : undefined;
  if (!psid) return [];
  const timestamp = typeof m.timestamp === 'number' ? m.timestamp : receivedAt;
  if (isRecord(m.message)) {
    if (m.message.is_echo === true) return [];
    const mid = str(m.message.mid) ?? `${psid}:${timestamp}`;
    return [{ kind: 'member', providerUserId: psid, dedupeKey: `messenger:message:${mid}` }];
  }
  if (isRecord(m.postback)) {
    const mid = str(m.postback.mid) ?? `${psid}:${timestamp}`;
    return [{ kind: 'member', providerUserId: psid, dedupeKey: `messenger:postback:${mid}` }];
  }
  if (isRecord(m.delivery)) {
    const watermark = typeof m.delivery.watermark === 'number' ? m.delivery.watermark : timestamp;
    const mids = Array.isArray(m.delivery.mids) ? m.delivery.mids : [];
    return mids
      .map((mid) => str(mid))
      .filter((mid): mid is string => mid !== undefined)
      .map((mid): WebhookEvent => ({ kind: 'receipt', providerMessageId: mid, status: 'delivered', at: watermark, dedupeKey: `messenger:delivery:${mid}` }));
  }
  if (isRecord(m.read) && typeof m.read.watermark === 'number') {
    const watermark = m.read.watermark;
    return [{ kind: 'read_watermark', providerUserId: psid, watermark, dedupeKey: `messenger:read:${psid}:${watermark}` }];
  }
  if (isRecord(m.optin)) {
    const status = str(m.optin.notification_messages_status);
    const key = `messenger:optin:${psid}:${timestamp}`;
    if (status === 'STOP_NOTIFICATIONS') return [{ kind: 'opt_out', providerUserId: psid, dedupeKey: key }];
    if (m.optin.type === 'notification_messages') return [{ kind: 'opt_in', providerUserId: psid, dedupeKey: key }];
    // Send to Messenger plugin opt-in: the user started a conversation.
    return [{ kind: 'member', providerUserId: psid, dedupeKey: key }];
  }
  return [];
}

export function parseMessengerWebhook(input: WebhookParseInput): WebhookEvent[] {
  const body = parseJsonBody(input.rawBody);
  if (!isRecord(body) || (body.object !== 'page' && body.object !== 'instagram') || !Array.isArray(body.entry)) {
    throw new WebhookParseError('not a Messenger page webhook');
  }
  const receivedAt = input.receivedAt ?? Date.now();
  const events: WebhookEvent[] = [];
  for (const entry of body.entry) {
    if (!isRecord(entry) || !Array.isArray(entry.messaging)) continue;
    for (const m of entry.messaging) if (isRecord(m)) events.push(...parseMessaging(m, receivedAt));
  }
  return events;
}

export const messengerWebhook: ProviderWebhook = {
  provider: 'messenger',
  verify: verifyMetaSignature,
  parse: parseMessengerWebhook,
  handshake: metaHandshake,
};
