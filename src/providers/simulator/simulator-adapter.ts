import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelRuntime, MessageContent, ProviderAdapter, SendOutcome, SendRequest } from '../types.ts';
import { validateCommonMessage } from '../message-limits.ts';

/**
 * The built-in fake provider, for demos, tests and load runs. Real code with deterministic rules:
 *
 * | provider user ID prefix | answer |
 * |---|---|
 * | `fail-`     | invalid_recipient (code SIM_INVALID) |
 * | `block-`    | recipient_blocked (code SIM_BLOCKED) |
 * | `reject-`   | content_rejected (code SIM_CONTENT) |
 * | `flaky-`    | transient on the first call for that user, then accepted |
 * | `throttle-` | rate_limited with retry-after 200 ms on the first call, then accepted |
 * | `slow-`     | answers after `slowMs` (default 1,000 ms), then by the rest of the ID (`slow-fail-1`) |
 *
 * Settings: `latencyMs` (each call waits this long), `failureRate` (0..1, random transient
 * failures), `authExpired: true` (every call fails as channel_auth), `rateLimitPerSecond`
 * (the simulated provider's own limit; calls over it answer rate_limited with a retry-after).
 */
const firstCalls = new Map<string, number>();
const windows = new Map<string, { second: number; count: number }>();

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function callCount(channelId: string, userId: string): number {
  const key = `${channelId}\u0000${userId}`;
  const n = (firstCalls.get(key) ?? 0) + 1;
  firstCalls.set(key, n);
  if (firstCalls.size > 100_000) firstCalls.clear();
  return n;
}

function overProviderLimit(channel: ChannelRuntime): number | null {
  const limit = num(channel.settings.rateLimitPerSecond, 0);
  if (limit <= 0) return null;
  const now = Date.now();
  const second = Math.floor(now / 1000);
  const w = windows.get(channel.id);
  if (!w || w.second !== second) {
    windows.set(channel.id, { second, count: 1 });
    return null;
  }
  w.count++;
  return w.count > limit ? (second + 1) * 1000 - now : null;
}

export const simulatorAdapter: ProviderAdapter = {
  name: 'simulator',
  defaultRatePerSecond: 100,
  supportsIdempotencyKey: false,

  validateMessage(message: MessageContent): string[] {
    return validateCommonMessage(message, { textMax: 4096, captionMax: 1024, templates: true });
  },

  validateCredentials(): string[] {
    return [];
  },

  async send(req: SendRequest): Promise<SendOutcome> {
    const { channel } = req;
    let { providerUserId } = req;
    const latency = num(channel.settings.latencyMs, 0) + (providerUserId.startsWith('slow-') ? num(channel.settings.slowMs, 1000) : 0);
    if (latency > 0) await sleep(latency, undefined, { signal: req.signal }).catch(() => undefined);
    if (providerUserId.startsWith('slow-')) providerUserId = providerUserId.slice('slow-'.length);
    if (req.signal?.aborted) return { ok: false, errorClass: 'transient', code: 'SIM_TIMEOUT', message: 'Simulator call timed out' };
    if (channel.settings.authExpired === true) {
      return { ok: false, errorClass: 'channel_auth', code: 'SIM_AUTH', message: 'Simulator: channel access token expired' };
    }
    const wait = overProviderLimit(channel);
    if (wait !== null) {
      return { ok: false, errorClass: 'rate_limited', code: '429', message: 'Simulator: too many requests', retryAfterMs: wait };
    }
    if (providerUserId.startsWith('fail-')) {
      return { ok: false, errorClass: 'invalid_recipient', code: 'SIM_INVALID', message: `Simulator: provider user ID ${providerUserId} does not exist` };
    }
    if (providerUserId.startsWith('block-')) {
      return { ok: false, errorClass: 'recipient_blocked', code: 'SIM_BLOCKED', message: 'Simulator: the user blocked this channel' };
    }
    if (providerUserId.startsWith('reject-')) {
      return { ok: false, errorClass: 'content_rejected', code: 'SIM_CONTENT', message: 'Simulator: message content rejected by policy' };
    }
    if (providerUserId.startsWith('flaky-') && callCount(channel.id, providerUserId) === 1) {
      return { ok: false, errorClass: 'transient', code: '503', message: 'Simulator: service temporarily unavailable' };
    }
    if (providerUserId.startsWith('throttle-') && callCount(channel.id, providerUserId) === 1) {
      return { ok: false, errorClass: 'rate_limited', code: '429', message: 'Simulator: too many requests', retryAfterMs: 200 };
    }
    const failureRate = num(channel.settings.failureRate, 0);
    if (failureRate > 0 && Math.random() < failureRate) {
      return { ok: false, errorClass: 'transient', code: '500', message: 'Simulator: random failure' };
    }
    return { ok: true, providerMessageId: `sim-${randomUUID()}` };
  },

  async testConnection(channel) {
    if (channel.settings.authExpired === true) {
      return { ok: false, errorClass: 'channel_auth', code: 'SIM_AUTH', message: 'Simulator: channel access token expired' };
    }
    return { ok: true, details: { provider: 'simulator' } };
  },
};
