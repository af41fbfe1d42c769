import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { startMockProvider, MOCK_CREDENTIALS, type MockProvider } from '../mock-providers/index.ts';
import { addContacts, startHerald, waitFor, type TestHerald } from '../helpers/harness.ts';
import { kill, spawnWorker } from '../helpers/worker-process.ts';
import type { ProgressEvent } from '../../src/events/types.ts';

/**
 * Scale-out on PostgreSQL: two `herald worker` processes share one campaign. The mock provider
 * (Telegram: no idempotency key, so a double claim would show as a double delivery) enforces its
 * own rate limit; the channel's pacing is shared through the database, so no 429 is ever earned.
 * The API runs in this process and must see the workers' progress through LISTEN/NOTIFY.
 */
describe('two worker processes on PostgreSQL', () => {
  let t: TestHerald;
  let mock: MockProvider;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    t = await startHerald('postgres', { worker: false });
    mock = await startMockProvider('telegram', { latencyMs: 5, rateLimitPerSecond: 330 });
  });
  afterAll(async () => {
    for (const w of workers) await kill(w);
    await mock.close();
    await t.close();
  });

  it('never sends a recipient twice, stays within the channel rate, and streams events across processes', { timeout: 120_000 }, async () => {
    const ch = await t.api('POST', '/api/v1/channels', { name: 'tg', provider: 'telegram', credentials: MOCK_CREDENTIALS.telegram, rateLimitPerSecond: 300, settings: { apiBaseUrl: mock.url } });
    const size = 1500;
    await addContacts(t, ch.body.id, Array.from({ length: size }, (_, i) => ({ id: String(500000 + i) })));
    const c = (await t.api('POST', '/api/v1/campaigns', { name: 'mw', channelId: ch.body.id, message: { type: 'text', text: 'x' }, audience: { type: 'all' } })).body;

    const events: ProgressEvent[] = [];
    const ws = (await t.herald.ctx.db.k.selectFrom('workspaces').select('id').where('name', '=', 'default').executeTakeFirstOrThrow()).id;
    const off = t.herald.ctx.bus.subscribe(ws, c.id, (e) => events.push(e));

    for (let i = 0; i < 2; i++) workers.push(spawnWorker({ HERALD_DATA_DIR: t.config.dataDir, HERALD_DATABASE_URL: t.dbUrl }));
    await t.api('POST', `/api/v1/campaigns/${c.id}/send`);
    const done = await waitFor(async () => {
      const r = (await t.api('GET', `/api/v1/campaigns/${c.id}`)).body;
      return r.status === 'sent' ? r : null;
    }, 90_000, 'campaign sent');
    off();

    const received = mock.received.map((m) => m.recipient);
    expect(received.length).toBe(size);
    expect(new Set(received).size).toBe(size);
    expect(done.stats).toMatchObject({ total: size, sent: size, failed: 0, pending: 0 });
    // Shared pacing: no recipient needed a second attempt, so the provider never answered 429.
    const retried = await t.herald.ctx.db.k.selectFrom('campaign_recipients').select('id').where('campaign_id', '=', c.id).where('attempts', '>', 1).execute();
    expect(retried).toEqual([]);
    expect(mock.requestCount).toBe(size);
    await waitFor(async () => events.some((e) => e.status === 'sent'), 10_000, 'final event via NOTIFY');
    const progress = events.filter((e) => e.status === 'sending');
    expect(progress.length).toBeGreaterThan(5);
    for (const e of events) expect(e.stats.total).toBe(e.stats.sent + e.stats.failed + e.stats.skipped + e.stats.pending);
  });
});
