import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { retryAfterMs } from '../../src/providers/http-call.ts';
import { getAdapter, getWebhook, CREDENTIAL_FIELDS } from '../../src/providers/registry.ts';
import type { RenderedMessage } from '../../src/providers/types.ts';
import { REAL_PROVIDERS, startAllMockProviders, startMockProvider } from '../mock-providers/index.ts';

const text: RenderedMessage = { type: 'text', text: 'hello' };
/** A user id every mock accepts (WhatsApp/Twilio want digits only by convention, not by check). */
const USER = '15551230001';

describe('all mock providers', () => {
  it('start together and accept a message through each registered adapter', async () => {
    const set = await startAllMockProviders();
    try {
      for (const provider of REAL_PROVIDERS) {
        const mock = set.providers[provider];
        const adapter = getAdapter(provider);
        expect(adapter.validateCredentials(mock.credentials)).toEqual([]);
        expect(getWebhook(provider)?.provider).toBe(provider);
        expect(CREDENTIAL_FIELDS[provider].length).toBeGreaterThan(1);
        const outcome = await adapter.send({ channel: mock.channel(), providerUserId: USER, message: text, idempotencyKey: randomUUID() });
        expect([provider, outcome.ok]).toEqual([provider, true]);
        expect(mock.received).toHaveLength(1);
        expect((await adapter.testConnection(mock.channel())).ok).toBe(true);
      }
    } finally {
      await set.close();
    }
  });

  it.each(REAL_PROVIDERS)('%s: errorRate and timeoutRate inject 5xx answers and hung requests', async (provider) => {
    const mock = await startMockProvider(provider, { errorRate: 1 });
    const adapter = getAdapter(provider);
    const sendOnce = (settings: Record<string, unknown> = {}) =>
      adapter.send({ channel: mock.channel(settings), providerUserId: USER, message: text, idempotencyKey: randomUUID() });
    try {
      expect(await sendOnce()).toMatchObject({ ok: false, errorClass: 'transient' });
      mock.configure({ errorRate: 0, timeoutRate: 1 });
      expect(await sendOnce({ timeoutMs: 100 })).toMatchObject({ ok: false, errorClass: 'transient', code: 'timeout' });
      // A deterministic random source: the first call draws 0.9 (answered), the second 0.1 (hung).
      const draws = [0.9, 0.1];
      mock.configure({ timeoutRate: 0.5, random: () => draws.shift() ?? 0.9 });
      expect((await sendOnce({ timeoutMs: 100 })).ok).toBe(true);
      expect(await sendOnce({ timeoutMs: 100 })).toMatchObject({ ok: false, code: 'timeout' });
      expect(mock.received).toHaveLength(1);
    } finally {
      await mock.close();
    }
  });

  it('close() releases requests the mock never answered', async () => {
    const mock = await startMockProvider('telegram', { timeoutRate: 1 });
    const pending = getAdapter('telegram').send({ channel: mock.channel({ timeoutMs: 5000 }), providerUserId: '1', message: text, idempotencyKey: 'k' });
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await mock.close();
    expect(await pending).toMatchObject({ ok: false, errorClass: 'transient', code: 'network' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('LINE multicast drops unknown users silently, as LINE does', async () => {
    const mock = await startMockProvider('line');
    try {
      const outcome = await getAdapter('line').sendBatch!({ channel: mock.channel(), providerUserIds: ['U1', 'fail-2', 'block-3'], message: text, idempotencyKey: randomUUID() });
      expect(outcome.ok).toBe(true);
      expect(mock.received.map((r) => [r.recipient, r.delivered])).toEqual([['U1', true], ['block-3', false]]);
    } finally {
      await mock.close();
    }
  });
});

describe('shared adapter behaviour', () => {
  it('reports an engine abort as transient/aborted, not timeout', async () => {
    const mock = await startMockProvider('whatsapp', { latencyMs: 500 });
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const outcome = await getAdapter('whatsapp').send({ channel: mock.channel(), providerUserId: USER, message: text, idempotencyKey: 'k', signal: controller.signal });
      expect(outcome).toMatchObject({ ok: false, errorClass: 'transient', code: 'aborted' });
    } finally {
      await mock.close();
    }
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '5' }))).toBe(5000);
    const inTwo = new Date(Date.now() + 2000).toUTCString();
    expect(retryAfterMs(new Headers({ 'retry-after': inTwo }))).toBeGreaterThan(500);
    expect(retryAfterMs(new Headers())).toBeUndefined();
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
  });

  it('turns missing credentials into channel_auth without calling the provider', async () => {
    for (const provider of REAL_PROVIDERS) {
      const outcome = await getAdapter(provider).send({ channel: { id: 'c', provider, credentials: {}, settings: { apiBaseUrl: 'http://127.0.0.1:1' } }, providerUserId: USER, message: text, idempotencyKey: randomUUID() });
      expect([provider, outcome]).toMatchObject([provider, { ok: false, errorClass: 'channel_auth', code: 'missing_credentials' }]);
    }
  });
});
