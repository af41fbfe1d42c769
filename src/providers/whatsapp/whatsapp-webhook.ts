import { isRecord, str } from '../http-call.ts';
import { metaHandshake, verifyMetaSignature } from '../meta-graph.ts';
import { parseJsonBody, WebhookParseError, type ProviderWebhook, type WebhookEvent, type WebhookParseInput } from '../webhook-types.ts';
import { classifyWhatsAppError } from './whatsapp-adapter.ts';

/**
 * WhatsApp Cloud API webhooks: `entry[].changes[]` with `field: "messages"`. Inbound user
 * messages (`value.messages[]`, names in `value.contacts[]`) make the sender a member; delivery
 * statuses (`value.statuses[]`) become receipts. `sent` is skipped: Herald already records the
 * accepted send. WhatsApp has no documented opt-out webhook; a failed status carries the error
 * code (131049, 131026…) with its failure class so the server can mark the contact.
 */

const RECEIPT_STATUSES = new Set(['delivered', 'read', 'failed']);

function epochMs(timestamp: unknown, fallback: number): number {
  const seconds = Number(str(timestamp));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : fallback;
}

function contactNames(value: Record<string, unknown>): Map<string, string> {
  const names = new Map<string, string>();
  for (const c of Array.isArray(value.contacts) ? value.contacts : []) {
    if (!isRecord(c)) continue;
    const waId = str(c.wa_id);
    const name = isRecord(c.profile) ? str(c.profile.name) : undefined;
    if (waId && name) names.set(waId, name);
  }
  return names;
}

function parseValue(value: Record<string, unknown>, receivedAt: number): WebhookEvent[] {
  const events: WebhookEvent[] = [];
  const names = contactNames(value);
  for (const m of Array.isArray(value.messages) ? value.messages : []) {
    if (!isRecord(m)) continue;
    const from = str(m.from);
    const id = str(m.id);
    if (!from || !id) continue;
    const name = names.get(from);
    events.push(name ? { kind: 'member', providerUserId: from, name, dedupeKey: `whatsapp:message:${id}` } : { kind: 'member', providerUserId: from, dedupeKey: `whatsapp:message:${id}` });
  }
  for (const s of Array.isArray(value.statuses) ? value.statuses : []) {
    if (!isRecord(s)) continue;
    const id = str(s.id);
    const status = str(s.status);
    if (!id || !status || !RECEIPT_STATUSES.has(status)) continue;
    const receipt: WebhookEvent = {
      kind: 'receipt',
      providerMessageId: id,
      status: status as 'delivered' | 'read' | 'failed',
      at: epochMs(s.timestamp, receivedAt),
      dedupeKey: `whatsapp:status:${id}:${status}`,
    };
    const error = Array.isArray(s.errors) && isRecord(s.errors[0]) ? s.errors[0] : null;
    if (status === 'failed' && error) {
      const code = typeof error.code === 'number' ? error.code : null;
      if (code !== null) receipt.errorCode = String(code);
      const details = isRecord(error.error_data) ? str(error.error_data.details) : undefined;
      const message = details ?? str(error.message) ?? str(error.title);
      if (message) receipt.errorMessage = message;
      receipt.errorClass = classifyWhatsAppError({ code }) ?? 'content_rejected';
    }
    events.push(receipt);
  }
  return events;
}

export function parseWhatsAppWebhook(input: WebhookParseInput): WebhookEvent[] {
  const body = parseJsonBody(input.rawBody);
  if (!isRecord(body) || body.object !== 'whatsapp_business_account' || !Array.isArray(body.entry)) {
    throw new WebhookParseError('not a WhatsApp Business Account webhook');
  }
  const receivedAt = input.receivedAt ?? Date.now();
  const events: WebhookEvent[] = [];
  for (const entry of body.entry) {
    if (!isRecord(entry) || !Array.isArray(entry.changes)) continue;
    for (const change of entry.changes) {
      if (isRecord(change) && change.field === 'messages' && isRecord(change.value)) events.push(...parseValue(change.value, receivedAt));
    }
  }
  return events;
}

export const whatsappWebhook: ProviderWebhook = {
  provider: 'whatsapp',
  verify: verifyMetaSignature,
  parse: parseWhatsAppWebhook,
  handshake: metaHandshake,
};
