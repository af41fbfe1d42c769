import { timingSafeEqual } from 'node:crypto';
import type { FailureClass, ProviderName } from './types.ts';

/**
 * The common shape of inbound provider webhooks. Everything here is pure (no HTTP server, no
 * database): the HTTP layer hands over the raw request, `verify` says whether the provider
 * signed it, `parse` turns it into normalized events, and the server applies them.
 *
 * Providers deliver webhooks at least once, so every event carries a `dedupeKey`, stable across
 * redeliveries of the same event and distinct between events, that the server stores to ignore
 * duplicates.
 */

export type WebhookHeaders = Record<string, string | string[] | undefined>;

export interface WebhookRequest {
  headers: WebhookHeaders;
  /** The body exactly as received: signatures are computed over these bytes. */
  rawBody: Buffer;
  /** Full public URL the provider called, query included (Twilio signs it). */
  url: string;
}

export interface WebhookVerifyInput extends WebhookRequest {
  /** The channel's decrypted credentials. */
  credentials: Record<string, unknown>;
}

export interface WebhookParseInput extends WebhookRequest {
  /** Clock for events whose payload has no timestamp (Twilio status callbacks); default Date.now(). */
  receivedAt?: number;
}

/** A user wrote to the channel or followed it: known reachable on this channel. */
export interface MemberEvent {
  kind: 'member';
  providerUserId: string;
  name?: string;
  dedupeKey: string;
}

export interface OptOutEvent {
  kind: 'opt_out';
  providerUserId: string;
  dedupeKey: string;
}

export interface OptInEvent {
  kind: 'opt_in';
  providerUserId: string;
  dedupeKey: string;
}

export type ReceiptStatus = 'delivered' | 'read' | 'failed';

/** A later status for a message the provider accepted earlier. */
export interface ReceiptEvent {
  kind: 'receipt';
  providerMessageId: string;
  status: ReceiptStatus;
  /** Epoch milliseconds. */
  at: number;
  errorCode?: string;
  errorMessage?: string;
  /** For failed receipts: what the provider's error code means, mapped like a send failure. */
  errorClass?: FailureClass;
  dedupeKey: string;
}

/** Messenger read receipts carry no message id: everything sent to the user before `watermark` was read. */
export interface ReadWatermarkEvent {
  kind: 'read_watermark';
  providerUserId: string;
  /** Epoch milliseconds. */
  watermark: number;
  dedupeKey: string;
}

export type WebhookEvent = MemberEvent | OptOutEvent | OptInEvent | ReceiptEvent | ReadWatermarkEvent;

/** The answer to Meta's GET subscription handshake. */
export type HandshakeResult = { ok: true; challenge: string } | { ok: false };

export interface ProviderWebhook {
  readonly provider: ProviderName;
  /** True only when the request carries the provider's valid signature for these credentials. */
  verify(input: WebhookVerifyInput): boolean;
  /** Normalized events; throws WebhookParseError when the body is not the provider's format. */
  parse(input: WebhookParseInput): WebhookEvent[];
  /** Meta only (WhatsApp, Messenger): the GET `hub.*` handshake; query as parsed by the router. */
  handshake?(query: Record<string, unknown>, credentials: Record<string, unknown>): HandshakeResult;
}

/** The body is not what the provider sends; the HTTP layer answers 400. */
export class WebhookParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookParseError';
  }
}

/** A header by case-insensitive name, first value when repeated. */
export function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/** Constant-time equality; differing lengths return false without comparing contents. */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  if (x.length !== y.length || x.length === 0) return false;
  return timingSafeEqual(x, y);
}

export function parseJsonBody(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8')) as unknown;
  } catch {
    throw new WebhookParseError('webhook body is not JSON');
  }
}
