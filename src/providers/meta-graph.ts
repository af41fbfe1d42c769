import { createHmac } from 'node:crypto';
import { classifyHttpStatus, failure, isRecord, retryAfterMs, str, type Failure, type ProviderResponse } from './http-call.ts';
import type { FailureClass, TestConnectionResult } from './types.ts';
import { headerValue, safeEqual, type HandshakeResult, type WebhookVerifyInput } from './webhook-types.ts';

/**
 * What WhatsApp Cloud API and Messenger share: both are Meta Graph API endpoints with the same
 * error envelope, the same webhook signature and the same GET subscription handshake.
 */

export const DEFAULT_GRAPH_BASE = 'https://graph.facebook.com';
export const DEFAULT_GRAPH_VERSION = 'v21.0';

export interface GraphError {
  code: number | null;
  subcode: number | null;
  message: string;
  type?: string;
  details?: string;
  fbtraceId?: string;
}

/** The `error` object of a Graph answer, or a stand-in built from the HTTP status. */
export function parseGraphError(res: ProviderResponse): GraphError {
  const err = isRecord(res.json) && isRecord(res.json.error) ? res.json.error : null;
  if (!err) return { code: null, subcode: null, message: `HTTP ${res.status}${res.text ? `: ${res.text.slice(0, 200)}` : ''}` };
  const data = isRecord(err.error_data) ? err.error_data : {};
  return {
    code: typeof err.code === 'number' ? err.code : null,
    subcode: typeof err.error_subcode === 'number' ? err.error_subcode : null,
    message: str(err.message) ?? `HTTP ${res.status}`,
    type: str(err.type),
    details: str(data.details),
    fbtraceId: str(err.fbtrace_id),
  };
}

/**
 * A failure outcome from a Graph error answer. `classify` maps the provider's documented codes;
 * codes it does not know fall back to the HTTP status. Meta sends no Retry-After in practice,
 * but one is honoured if it ever appears.
 */
export function graphFailure(res: ProviderResponse, classify: (e: GraphError) => FailureClass | null): Failure {
  const e = parseGraphError(res);
  const errorClass = classify(e) ?? classifyHttpStatus(res.status);
  const message = e.details && !e.message.includes(e.details) ? `${e.message} (${e.details})` : e.message;
  const code = e.code === null ? String(res.status) : e.subcode === null ? String(e.code) : `${e.code}/${e.subcode}`;
  return failure(errorClass, code, message, errorClass === 'rate_limited' ? retryAfterMs(res.headers) : undefined);
}

/**
 * testConnection reads the channel's own object (phone number, page): "no such object" there
 * means the configured ID is wrong, a channel problem rather than a recipient one.
 */
export function graphConnectionFailure(res: ProviderResponse, classify: (e: GraphError) => FailureClass | null): TestConnectionResult {
  const { errorClass, code, message } = graphFailure(res, classify);
  return { ok: false, errorClass: errorClass === 'invalid_recipient' ? 'channel_auth' : errorClass, code, message };
}

/** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`. */
export function signMetaBody(appSecret: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

export function verifyMetaSignature(input: WebhookVerifyInput): boolean {
  const secret = input.credentials.appSecret;
  // Without an app secret nothing proves the POST came from Meta, so it is refused.
  if (typeof secret !== 'string' || secret === '') return false;
  const header = headerValue(input.headers, 'x-hub-signature-256');
  if (!header) return false;
  return safeEqual(header.trim().toLowerCase(), signMetaBody(secret, input.rawBody));
}

/** GET `?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`: echo the challenge when the token matches. */
export function metaHandshake(query: Record<string, unknown>, credentials: Record<string, unknown>): HandshakeResult {
  const expected = credentials.verifyToken;
  const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
  const mode = first(query['hub.mode']);
  const token = first(query['hub.verify_token']);
  const challenge = first(query['hub.challenge']);
  if (typeof expected !== 'string' || expected === '') return { ok: false };
  if (mode !== 'subscribe' || typeof token !== 'string' || typeof challenge !== 'string') return { ok: false };
  return safeEqual(token, expected) ? { ok: true, challenge } : { ok: false };
}
