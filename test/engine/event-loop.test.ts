import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addContacts, simulatorChannel, startHerald, waitFor, type TestHerald } from '../helpers/harness.ts';

/**
 * On SQLite every query is synchronous under an async API, and the simulator at zero latency
 * answers without I/O: without explicit yields, the send loop and the audience fixing ran as one
 * long chain of promise callbacks, and timers, HTTP requests and WebSocket messages waited until
 * the whole campaign was sent (measured: 12 s for 100,000 recipients, bench/api-latency.ts).
 * (PostgreSQL queries are network I/O, which yields by itself.)
 */
describe('the event loop keeps turning while a campaign sends (SQLite, zero-latency provider)', () => {
  let t: TestHerald;
  beforeAll(async () => {
    t = await startHerald('sqlite', { engine: { concurrency: 64 } });
  });
  afterAll(() => t.close());

  it('timers run during the send: no stretch longer than a second without a turn of the loop', async () => {
    const N = 30_000;
    const ch = await simulatorChannel(t, { latencyMs: 0 }, 100_000);
    for (let i = 0; i < N; i += 10_000) {
      await addContacts(t, ch, Array.from({ length: 10_000 }, (_, j) => ({ id: `el-${i + j}` })));
    }
    const c = (await t.api('POST', '/api/v1/campaigns', { name: 'loop', channelId: ch, message: { type: 'text', text: 'hi {{name}}' }, audience: { type: 'all' } })).body;

    const raw = t.herald.ctx.db.sqlite!;
    const progress = raw.prepare('select sent + failed + skipped as n, status from campaigns where id = ?');
    let last = performance.now();
    let longest = 0;
    const midway: number[] = [];
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      // Read synchronously: the timer itself must not wait behind the engine's queries.
      const p = progress.get(c.id) as { n: number; status: string };
      if (p.status === 'sending' && p.n > 0 && p.n < N) midway.push(p.n);
    }, 5);
    try {
      const sent = await t.api('POST', `/api/v1/campaigns/${c.id}/send`);
      expect(sent.status).toBe(200);
      await waitFor(async () => (await t.api('GET', `/api/v1/campaigns/${c.id}`)).body.status === 'sent', 60_000, 'campaign sent');
    } finally {
      clearInterval(timer);
    }
    const final = (await t.api('GET', `/api/v1/campaigns/${c.id}`)).body;
    expect(final.stats).toMatchObject({ total: N, sent: N, failed: 0, pending: 0 });
    expect(Math.round(longest), 'longest stretch without a timer (ms)').toBeLessThan(1000);
    expect(midway.length, 'timer runs while the campaign was part sent').toBeGreaterThan(10);
  }, 120_000);
});
