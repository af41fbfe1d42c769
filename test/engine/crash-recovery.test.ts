import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { startMockProvider, MOCK_CREDENTIALS, type MockProvider } from '../mock-providers/index.ts';
import { addContacts, startHerald, waitFor, type TestHerald } from '../helpers/harness.ts';
import { kill, spawnWorker } from '../helpers/worker-process.ts';

/**
 * The engine's durability promise, tested with real processes: a worker killed with SIGKILL in
 * the middle of a campaign and restarted loses no recipient and sends none twice, as counted by
 * a mock provider that records every message it accepts.
 */
describe('worker killed with SIGKILL mid-campaign (SQLite, separate API and worker processes)', () => {
  let t: TestHerald;
  const mocks: MockProvider[] = [];
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    t = await startHerald('sqlite', { worker: false });
  });
  afterAll(async () => {
    for (const w of workers) await kill(w);
    await Promise.all(mocks.map((m) => m.close()));
    await t.close();
  });

  async function runWithKills(provider: 'line' | 'telegram', size: number, killsAt: number[]) {
    const mock = await startMockProvider(provider, { latencyMs: 15 });
    mocks.push(mock);
    const ch = await t.api('POST', '/api/v1/channels', { name: provider, provider, credentials: MOCK_CREDENTIALS[provider], rateLimitPerSecond: 400, settings: { apiBaseUrl: mock.url, timeoutMs: 3000 } });
    expect(ch.status).toBe(201);
    const prefix = provider === 'line' ? 'U' : '';
    await addContacts(t, ch.body.id, Array.from({ length: size }, (_, i) => ({ id: `${prefix}${100000 + i}`, tags: [provider] })));
    const c = (await t.api('POST', '/api/v1/campaigns', { name: provider, channelId: ch.body.id, message: { type: 'text', text: 'hi {{name}}' }, audience: { type: 'tags', tags: [provider] } })).body;
    expect((await t.api('POST', `/api/v1/campaigns/${c.id}/send`)).body.stats.total).toBe(size);

    const env = { HERALD_DATA_DIR: t.config.dataDir, HERALD_DATABASE_URL: t.dbUrl, HERALD_LEASE_MS: '1500' };
    let worker = spawnWorker(env);
    workers.push(worker);
    for (const at of killsAt) {
      await waitFor(async () => mock.received.length >= at, 30_000, `${at} messages received`);
      await kill(worker);
      worker = spawnWorker(env);
      workers.push(worker);
    }
    const done = await waitFor(async () => {
      const r = (await t.api('GET', `/api/v1/campaigns/${c.id}`)).body;
      return ['sent', 'failed', 'partial'].includes(r.status) ? r : null;
    }, 60_000, 'campaign completion');
    await kill(worker);
    const rows = await t.herald.ctx.db.k.selectFrom('campaign_recipients').select(['provider_user_id', 'status', 'error_code']).where('campaign_id', '=', c.id).execute();
    return { mock, done, rows };
  }

  it('LINE (idempotency key): every recipient received exactly once, all sent', { timeout: 120_000 }, async () => {
    const { mock, done, rows } = await runWithKills('line', 600, [120, 300, 450]);
    const received = mock.received.map((m) => m.recipient);
    expect(new Set(received).size).toBe(received.length);
    expect(received.length).toBe(600);
    expect(done).toMatchObject({ status: 'sent', stats: { total: 600, sent: 600, failed: 0, skipped: 0, pending: 0 } });
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
  });

  it('Telegram (no idempotency key): nobody received twice; calls cut by the kill end as "delivery uncertain"', { timeout: 120_000 }, async () => {
    const { mock, done, rows } = await runWithKills('telegram', 600, [120, 300, 450]);
    const received = mock.received.map((m) => m.recipient);
    expect(new Set(received).size).toBe(received.length);
    const receivedSet = new Set(received);
    expect(done.stats.total).toBe(600);
    expect(done.stats.pending).toBe(0);
    expect(done.stats.sent + done.stats.failed).toBe(600);
    for (const r of rows) {
      if (r.status === 'sent') expect(receivedSet.has(r.provider_user_id)).toBe(true);
      else expect(r).toMatchObject({ status: 'failed', error_code: 'delivery_uncertain' });
    }
    // Every message the provider got is accounted for: sent, or marked uncertain for a person to check.
    const sentOrUncertain = new Set(rows.map((r) => r.provider_user_id));
    for (const rcpt of received) expect(sentOrUncertain.has(rcpt)).toBe(true);
    expect(done.stats.failed).toBeLessThan(200);
  });
});
