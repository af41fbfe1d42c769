import { createHmac } from 'node:crypto';
import { credential } from '../credential-fields.ts';
import { headerValue, safeEqual, WebhookParseError, type ProviderWebhook, type WebhookEvent, type WebhookParseInput, type WebhookVerifyInput } from '../webhook-types.ts';
import { classifyTwilioError } from './twilio-adapter.ts';

/**
 * Twilio webhooks are form posts of two kinds on the same shape:
 * - status callbacks (`MessageStatus`, `ErrorCode`) for messages Herald sent → receipts;
 * - inbound messages (`From`, `Body`) → member, or opt-out/opt-in for Twilio's reserved
 *   keywords (Twilio itself blocks a number after STOP and answers 21610 afterwards).
 * Status callbacks carry no timestamp, so receipts use the time they arrived.
 */

export type FormParams = Record<string, string | string[]>;

export function parseForm(rawBody: Buffer | string): FormParams {
  const params: FormParams = {};
  for (const [key, value] of new URLSearchParams(rawBody.toString())) {
    const prev = params[key];
    params[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return params;
}

/**
 * `base64(HMAC-SHA1(auth token, url + name1 + value1 + name2 + value2…))`, names sorted;
 * a repeated name contributes each of its distinct values, sorted.
 */
export function signTwilioRequest(authToken: string, url: string, params: FormParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    const values = Array.isArray(value) ? [...new Set(value)].sort() : [value];
    for (const v of values) data += name + v;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/**
 * Behind a proxy the URL Herald sees may differ from the one Twilio signed only by an explicit
 * default port, so the URL is also tried with the port added and removed (as Twilio's SDKs do).
 */
function urlVariants(url: string): string[] {
  const m = /^(https?:\/\/)([^/?#]*@)?([^/?#:]+)(:\d+)?(.*)$/i.exec(url);
  if (!m) return [url];
  const [, scheme, user = '', host, port, rest] = m;
  const defaultPort = scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return [...new Set([url, scheme + user + host + rest, scheme + user + host + (port ?? defaultPort) + rest])];
}

export function verifyTwilioSignature(input: WebhookVerifyInput): boolean {
  const token = credential(input.credentials, 'authToken');
  const header = headerValue(input.headers, 'x-twilio-signature');
  if (!token || !header) return false;
  const params = parseForm(input.rawBody);
  return urlVariants(input.url).some((u) => safeEqual(header.trim(), signTwilioRequest(token, u, params)));
}

const OPT_OUT = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE', 'STOP ALL']);
const OPT_IN = new Set(['START', 'UNSTOP', 'YES']);

const RECEIPTS: Record<string, 'delivered' | 'read' | 'failed'> = { delivered: 'delivered', read: 'read', failed: 'failed', undelivered: 'failed' };

function one(params: FormParams, name: string): string | undefined {
  const v = params[name];
  return Array.isArray(v) ? v[0] : v;
}

export function parseTwilioWebhook(input: WebhookParseInput): WebhookEvent[] {
  const params = parseForm(input.rawBody);
  const sid = one(params, 'MessageSid') ?? one(params, 'SmsSid');
  if (!sid) throw new WebhookParseError('not a Twilio messaging webhook: no MessageSid');
  const status = one(params, 'MessageStatus');
  const from = one(params, 'From');
  const isInbound = one(params, 'Body') !== undefined || one(params, 'SmsStatus') === 'received';
  if (status !== undefined && !isInbound) {
    const mapped = RECEIPTS[status];
    if (!mapped) return []; // queued, sending, sent, accepted: Herald already knows the send was accepted
    const receipt: WebhookEvent = { kind: 'receipt', providerMessageId: sid, status: mapped, at: input.receivedAt ?? Date.now(), dedupeKey: `twilio:${sid}:${status}` };
    const errorCode = one(params, 'ErrorCode');
    if (errorCode) {
      receipt.errorCode = errorCode;
      const message = one(params, 'ErrorMessage');
      if (message) receipt.errorMessage = message;
      // 30003 unreachable, 30005 unknown, 30006 landline: the number will not take SMS.
      receipt.errorClass = ['30003', '30005', '30006'].includes(errorCode) ? 'invalid_recipient' : errorCode === '30004' ? 'recipient_blocked' : classifyTwilioError(400, Number(errorCode));
    }
    return [receipt];
  }
  if (!from) return [];
  // Twilio's Advanced Opt-Out names the keyword class itself; otherwise match the standard words.
  const optOutType = one(params, 'OptOutType')?.toUpperCase();
  const word = (one(params, 'Body') ?? '').trim().toUpperCase().replace(/\s+/g, ' ');
  const key = `twilio:${sid}`;
  if (optOutType === 'STOP' || (!optOutType && OPT_OUT.has(word))) return [{ kind: 'opt_out', providerUserId: from, dedupeKey: key }];
  const member: WebhookEvent = { kind: 'member', providerUserId: from, dedupeKey: `${key}:member` };
  if (optOutType === 'START' || (!optOutType && OPT_IN.has(word))) return [member, { kind: 'opt_in', providerUserId: from, dedupeKey: `${key}:opt_in` }];
  return [member];
}

export const twilioWebhook: ProviderWebhook = {
  provider: 'twilio',
  verify: verifyTwilioSignature,
  parse: parseTwilioWebhook,
};
