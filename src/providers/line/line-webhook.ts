import { createHmac } from 'node:crypto';
import { credential } from '../credential-fields.ts';
import { isRecord, str } from '../http-call.ts';
import { headerValue, parseJsonBody, safeEqual, WebhookParseError, type ProviderWebhook, type WebhookEvent, type WebhookParseInput, type WebhookVerifyInput } from '../webhook-types.ts';

/**
 * LINE webhooks: `{destination, events[]}` signed with `x-line-signature`. LINE has no delivery
 * receipts; `unfollow` (the user blocked the account) is the only sign a push was not delivered,
 * so it becomes an opt-out. A `follow` makes the user a member and, when it is an unblock (or
 * LINE does not say), an opt-in. Only one-to-one (`source.type: "user"`) events are used:
 * Herald addresses users, not group chats.
 */

/** `base64(HMAC-SHA256(channel secret, raw body))`. */
export function signLineBody(channelSecret: string, rawBody: Buffer | string): string {
  return createHmac('sha256', channelSecret).update(rawBody).digest('base64');
}

export function verifyLineSignature(input: WebhookVerifyInput): boolean {
  const secret = credential(input.credentials, 'channelSecret');
  const header = headerValue(input.headers, 'x-line-signature');
  if (!secret || !header) return false;
  return safeEqual(Buffer.from(header.trim(), 'base64'), Buffer.from(signLineBody(secret, input.rawBody), 'base64'));
}

function eventKey(event: Record<string, unknown>, index: number, destination: string): string {
  // webhookEventId is a ULID, the same on redeliveries; older payloads lack it.
  return str(event.webhookEventId) ?? `${destination}:${str(event.timestamp) ?? ''}:${str(event.type) ?? ''}:${index}`;
}

export function parseLineWebhook(input: WebhookParseInput): WebhookEvent[] {
  const body = parseJsonBody(input.rawBody);
  if (!isRecord(body) || !Array.isArray(body.events)) throw new WebhookParseError('not a LINE webhook: no events array');
  const destination = str(body.destination) ?? '';
  const out: WebhookEvent[] = [];
  body.events.forEach((event, index) => {
    if (!isRecord(event) || !isRecord(event.source) || event.source.type !== 'user') return;
    const userId = str(event.source.userId);
    if (!userId) return;
    const key = `line:${eventKey(event, index, destination)}`;
    switch (event.type) {
      case 'follow': {
        out.push({ kind: 'member', providerUserId: userId, dedupeKey: `${key}:member` });
        const unblocked = isRecord(event.follow) ? event.follow.isUnblocked : undefined;
        if (unblocked !== false) out.push({ kind: 'opt_in', providerUserId: userId, dedupeKey: `${key}:opt_in` });
        break;
      }
      case 'unfollow':
        out.push({ kind: 'opt_out', providerUserId: userId, dedupeKey: key });
        break;
      case 'message':
      case 'postback':
        out.push({ kind: 'member', providerUserId: userId, dedupeKey: key });
        break;
    }
  });
  return out;
}

export const lineWebhook: ProviderWebhook = {
  provider: 'line',
  verify: verifyLineSignature,
  parse: parseLineWebhook,
};
