import type { FailureClass, SendOutcome } from './types.ts';

/**
 * The one HTTP helper every real adapter goes through, so that timeouts, aborts and network
 * errors become the same `transient` outcomes everywhere and adapters only map provider answers.
 * Node's global fetch (undici) keeps connections alive by default, which matters at 80–2,000
 * requests/s: a fresh TLS handshake per message would dominate the latency.
 */

export const DEFAULT_TIMEOUT_MS = 10_000;

export type Failure = Extract<SendOutcome, { ok: false }>;

export interface ProviderResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or null when the body was empty or not JSON. */
  json: unknown;
  text: string;
}

export type CallResult = { ok: true; response: ProviderResponse } | { ok: false; failure: Failure };

export interface CallOptions {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** The engine's own signal (shutdown, lease lost); reported as `aborted`, not `timeout`. */
  signal?: AbortSignal;
}

export function failure(errorClass: FailureClass, code: string | null, message: string, retryAfterMs?: number): Failure {
  return retryAfterMs === undefined ? { ok: false, errorClass, code, message } : { ok: false, errorClass, code, message, retryAfterMs };
}

/**
 * Sends one request; never throws. The whole exchange, body included, runs under the timeout.
 * The timer and the listener on the engine's signal are removed after each call: the engine's
 * signal lives as long as the worker, and AbortSignal.any() on it would keep one dependent
 * signal per message alive on some Node 20 releases.
 */
export async function callProvider(url: string, options: CallOptions): Promise<CallResult> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) controller.abort();
  try {
    const res = await fetch(url, { method: options.method, headers: options.headers, body: options.body, signal: controller.signal });
    const text = await res.text();
    return { ok: true, response: { status: res.status, headers: res.headers, json: parseJson(text), text } };
  } catch (err) {
    if (timedOut) return { ok: false, failure: failure('transient', 'timeout', `no answer within ${options.timeoutMs} ms`) };
    if (options.signal?.aborted) return { ok: false, failure: failure('transient', 'aborted', 'request aborted by Herald') };
    return { ok: false, failure: failure('transient', 'network', `network error: ${describeError(err)}`) };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function parseJson(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici hides the socket error (ECONNREFUSED, ECONNRESET) in `cause`.
  const cause = (err as Error & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: string }).code;
    return code ? `${code} ${cause.message}` : cause.message;
  }
  return err.message;
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unusable. */
export function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The class a bare HTTP status implies, for answers whose body carries no code we know. */
export function classifyHttpStatus(status: number): FailureClass {
  if (status === 401 || status === 403) return 'channel_auth';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'transient';
  // Any other 4xx is a permanent refusal of this message; content_rejected counts toward the
  // engine's auto-pause, so a systematic problem (bad settings) stops the campaign quickly.
  return 'content_rejected';
}

export function settingNumber(settings: Record<string, unknown>, key: string, fallback: number): number {
  const v = settings[key];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback;
}

export function settingString(settings: Record<string, unknown>, key: string, fallback: string): string {
  const v = settings[key];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : fallback;
}

export function timeoutMs(settings: Record<string, unknown>): number {
  return settingNumber(settings, 'timeoutMs', DEFAULT_TIMEOUT_MS);
}

/** `settings.apiBaseUrl` (a mock server, a proxy) or the provider's public base, without trailing slash. */
export function baseUrl(settings: Record<string, unknown>, fallback: string): string {
  return settingString(settings, 'apiBaseUrl', fallback).replace(/\/+$/, '');
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}
