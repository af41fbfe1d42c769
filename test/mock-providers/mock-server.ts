import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { ChannelRuntime, ProviderName } from '../../src/providers/types.ts';

/**
 * The machinery every mock provider shares: a real node:http server on 127.0.0.1 (port 0 by
 * default), latency, the provider's own rate-limit answer, failure injection and the log of
 * accepted messages. Each provider file only describes its routes and its exact answers.
 *
 * Order of checks for every request: latency → random timeout (no answer) → authentication
 * (and `authExpired`) → rate limit (POSTs only, fixed one-second window) → `failNext` →
 * `errorRate` → the provider's route (validation, recipient prefixes, success).
 * Recipient ID formats are not checked beyond "non-empty", so load tests can use synthetic IDs.
 */

export type RealProvider = Exclude<ProviderName, 'simulator'>;

export interface MockOptions {
  host?: string;
  port?: number;
  /** The provider's throughput limit; over it the provider's own 429-style answer. */
  rateLimitPerSecond?: number;
  /** Delay before every answer. */
  latencyMs?: number;
  /** Every request fails authentication the way the provider says "token expired". */
  authExpired?: boolean;
  /** The next n requests answer the provider's 5xx. */
  failNext?: number;
  /** Probability (0..1) that a request is never answered (the client times out). */
  timeoutRate?: number;
  /** Probability (0..1) of a 5xx answer. */
  errorRate?: number;
  /** Probability (0..1) that a request is answered only after `slowMs` more (default 2,000 ms). */
  slowRate?: number;
  slowMs?: number;
  /**
   * Probability (0..1) that a send is accepted and recorded but the answer never comes (the
   * connection stays open until the client gives up): the case where a retry can double-send.
   */
  lostAnswerRate?: number;
  /** 429 bursts: during the first `burstMs` of every `periodMs`, every POST is rate limited. */
  throttleBursts?: { periodMs: number; burstMs: number };
  /** Rate-limit answers carry no hint of when to retry (no Retry-After, no retry_after). */
  omitRetryAfter?: boolean;
  /** Credentials the mock accepts; defaults to MOCK_CREDENTIALS[provider]. */
  credentials?: Record<string, string>;
  /** WhatsApp/Messenger: where to post signed `delivered` status webhooks for accepted messages. */
  webhookUrl?: string;
  /** Delay before those status webhooks (and Twilio StatusCallbacks); default 20 ms. */
  webhookDelayMs?: number;
  /** Random source for errorRate/timeoutRate, replaceable for deterministic tests. */
  random?: () => number;
}

export interface ReceivedMessage {
  provider: RealProvider;
  recipient: string;
  /** The message as the provider received it (the JSON message object or form fields). */
  message: unknown;
  /** Text or caption, for easy assertions. */
  text?: string;
  /** LINE's X-Line-Retry-Key. */
  retryKey?: string;
  providerMessageId: string;
  /** False where the provider accepts but silently drops (LINE user who blocked the account). */
  delivered: boolean;
  at: number;
}

export interface MockRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** Parsed JSON body, or null. */
  json: unknown;
  /** Parsed form body (application/x-www-form-urlencoded), or null. */
  form: URLSearchParams | null;
}

export interface MockReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface MockContext {
  credentials: Record<string, string>;
  options: MockOptions;
  url: string;
  record(message: Omit<ReceivedMessage, 'provider' | 'at'>): ReceivedMessage;
  /** Posts a signed webhook later (fire and forget; failures land in `webhookErrors`). */
  scheduleWebhook(targetUrl: string, payload: unknown): void;
}

export interface MockDefinition {
  provider: RealProvider;
  authorize(req: MockRequest, ctx: MockContext): boolean;
  /** The provider's answer to a missing or invalid token; `expired` for `authExpired`. */
  authError(expired: boolean): MockReply;
  rateLimited(retryAfterSeconds: number): MockReply;
  serverError(): MockReply;
  handle(req: MockRequest, ctx: MockContext): MockReply;
  sendWebhook(targetUrl: string, payload: unknown, credentials: Record<string, string>): Promise<{ status: number; body: string }>;
  /** Forgets per-server bookkeeping (LINE retry keys). */
  reset?(): void;
}

export interface MockProvider {
  provider: RealProvider;
  url: string;
  credentials: Record<string, string>;
  options: MockOptions;
  received: ReceivedMessage[];
  webhookErrors: Error[];
  /** Every request seen, answered or not. */
  readonly requestCount: number;
  /** 429-style answers for going over `rateLimitPerSecond` (a client pacing bug), and for bursts. */
  readonly rateLimitedCount: { overLimit: number; burst: number };
  /** A channel pointing at this mock, for adapter calls. */
  channel(settings?: Record<string, unknown>): ChannelRuntime;
  /** Changes options on the running server. */
  configure(options: Partial<MockOptions>): void;
  /** Clears the received log, request count and provider bookkeeping (LINE retry keys). */
  reset(): void;
  /** Posts a webhook to `targetUrl` signed as this provider signs it. */
  sendWebhook(targetUrl: string, payload: unknown): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

const MAX_BODY = 5 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function toMockRequest(req: IncomingMessage, rawBody: Buffer): MockRequest {
  const url = new URL(req.url ?? '/', 'http://mock');
  const type = String(req.headers['content-type'] ?? '');
  let json: unknown = null;
  if (type.includes('json') && rawBody.length) {
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      json = null;
    }
  }
  const form = type.includes('application/x-www-form-urlencoded') ? new URLSearchParams(rawBody.toString('utf8')) : null;
  return { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, rawBody, json, form };
}

function send(res: ServerResponse, reply: MockReply): void {
  const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': typeof reply.body === 'string' ? 'text/plain' : 'application/json', ...reply.headers });
  res.end(body);
}

export async function startMockServer(def: MockDefinition, credentials: Record<string, string>, initial: MockOptions): Promise<MockProvider> {
  const options: MockOptions = { ...initial };
  const received: ReceivedMessage[] = [];
  const webhookErrors: Error[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let requestCount = 0;
  /** Rate-limit answers given because a client went over `rateLimitPerSecond` (not bursts). */
  let overLimitCount = 0;
  let burstCount = 0;
  const startedAt = Date.now();
  let window = { second: 0, count: 0 };
  let closing = false;

  const ctx: MockContext = {
    credentials,
    options,
    url: '', // set once the server listens
    record(message) {
      const entry: ReceivedMessage = { ...message, provider: def.provider, at: Date.now() };
      received.push(entry);
      return entry;
    },
    scheduleWebhook(targetUrl, payload) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (closing) return;
        def.sendWebhook(targetUrl, payload, credentials).catch((err: unknown) => webhookErrors.push(err instanceof Error ? err : new Error(String(err))));
      }, options.webhookDelayMs ?? 20);
      timers.add(timer);
    },
  };

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  /** Seconds until the current window ends when over the limit, else null. */
  function overLimit(): number | null {
    const limit = options.rateLimitPerSecond ?? 0;
    if (limit <= 0) return null;
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (window.second !== second) window = { second, count: 0 };
    window.count++;
    return window.count > limit ? Math.max(1, Math.ceil(((second + 1) * 1000 - now) / 1000)) : null;
  }

  /** Seconds left in the current 429 burst, or null outside bursts. */
  function inBurst(): number | null {
    const b = options.throttleBursts;
    if (!b || b.periodMs <= 0) return null;
    const into = (Date.now() - startedAt) % b.periodMs;
    return into < b.burstMs ? Math.max(1, Math.ceil((b.burstMs - into) / 1000)) : null;
  }

  function rateLimitedReply(seconds: number): MockReply {
    const reply = def.rateLimited(seconds);
    if (!options.omitRetryAfter) return reply;
    const headers = Object.fromEntries(Object.entries(reply.headers ?? {}).filter(([k]) => k.toLowerCase() !== 'retry-after'));
    const body = reply.body && typeof reply.body === 'object' && 'parameters' in reply.body ? { ...reply.body, parameters: undefined } : reply.body;
    return { ...reply, headers, body };
  }

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requestCount++;
    const mreq = toMockRequest(req, await readBody(req));
    const random = options.random ?? Math.random;
    if (options.latencyMs) await wait(options.latencyMs);
    if (options.slowRate && random() < options.slowRate) await wait(options.slowMs ?? 2000);
    if (closing) return void res.destroy();
    // Never answered: the socket stays open until the client gives up or close() runs.
    if (options.timeoutRate && random() < options.timeoutRate) return;
    if (options.authExpired) return send(res, def.authError(true));
    if (!def.authorize(mreq, ctx)) return send(res, def.authError(false));
    if (mreq.method === 'POST') {
      const retryAfter = overLimit();
      if (retryAfter !== null) {
        overLimitCount++;
        return send(res, rateLimitedReply(retryAfter));
      }
      const burst = inBurst();
      if (burst !== null) {
        burstCount++;
        return send(res, rateLimitedReply(burst));
      }
    }
    if (options.failNext && options.failNext > 0) {
      options.failNext--;
      return send(res, def.serverError());
    }
    if (options.errorRate && random() < options.errorRate) return send(res, def.serverError());
    const reply = def.handle(mreq, ctx);
    // Accepted (and recorded) but the answer is lost on the way back.
    if (mreq.method === 'POST' && reply.status < 300 && options.lostAnswerRate && random() < options.lostAnswerRate) return;
    send(res, reply);
  }

  const server: Server = createServer((req, res) => {
    answer(req, res).catch(() => {
      if (!res.headersSent) send(res, def.serverError());
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address}:${address.port}`;
  ctx.url = url;

  const mock: MockProvider = {
    provider: def.provider,
    url,
    credentials,
    options,
    received,
    webhookErrors,
    get requestCount() {
      return requestCount;
    },
    get rateLimitedCount() {
      return { overLimit: overLimitCount, burst: burstCount };
    },
    channel(settings = {}) {
      return { id: `mock-${def.provider}-${randomUUID()}`, provider: def.provider, credentials: { ...credentials }, settings: { apiBaseUrl: url, ...settings } };
    },
    configure(partial) {
      Object.assign(options, partial);
    },
    reset() {
      received.length = 0;
      webhookErrors.length = 0;
      requestCount = 0;
      overLimitCount = 0;
      burstCount = 0;
      window = { second: 0, count: 0 };
      def.reset?.();
    },
    sendWebhook(targetUrl, payload) {
      return def.sendWebhook(targetUrl, payload, credentials);
    },
    async close() {
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return mock;
}

/** `POST` a body with headers; the shared transport of every provider's webhook signer. */
export async function postWebhook(targetUrl: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const res = await fetch(targetUrl, { method: 'POST', headers, body });
  return { status: res.status, body: await res.text() };
}

/** Recipient prefixes every mock understands (the simulator's convention). */
export function injectedFailure(recipient: string): 'fail' | 'block' | 'reject' | 'transient' | null {
  const m = /^(fail|block|reject|transient)-/.exec(recipient);
  return m ? (m[1] as 'fail' | 'block' | 'reject' | 'transient') : null;
}

export function fakeId(prefix: string, length = 24): string {
  return prefix + randomUUID().replace(/-/g, '').slice(0, length);
}
