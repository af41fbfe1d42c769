/**
 * (a) End-to-end recipients/s through the whole engine (claims, pacing, rendering, adapter,
 * batched outcome writes, progress events) against a zero-latency mock provider on loopback,
 * versus a bare loop that only POSTs the same requests to the same mock with the same
 * concurrency. Both measured in this run; the ratio is the figure.
 */
import { createCampaign, sendCampaign } from '../src/campaigns/campaign-service.ts';
import { createChannel, report, seedMembers, startBenchHerald, startMock, waitFinal, rssSampler } from './lib.ts';

const N = Number(process.env.BENCH_N ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const DB = process.env.BENCH_DB_URL; // default: SQLite

const mock = await startMock('telegram', { latencyMs: 0 });
const token = mock.credentials.botToken;

async function bareLoop(n: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) {
      const i = next++;
      const res = await fetch(`${mock.url}/bot${token}/sendMessage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chat_id: 2000000000 + i, text: `hello Member ${i}` }) });
      await res.text();
    }
  }));
  return n / ((performance.now() - started) / 1000);
}

await bareLoop(2000); // warm-up (JIT, keep-alive sockets)
await mock.reset();
const bareRss = rssSampler();
const bare = await bareLoop(N);
const bareMem = bareRss.stop();
await mock.reset();

const b = await startBenchHerald({ engine: { concurrency: CONCURRENCY } }, DB);
const channelId = await createChannel(b, 'telegram', mock.credentials, 1_000_000, { apiBaseUrl: mock.url });
await seedMembers(b, channelId, N, '');
b.herald.engine!.start();
const ctx = b.herald.ctx;
const c = await createCampaign(ctx, b.workspaceId, { name: 'bench', channelId, message: { type: 'text', text: 'hello {{name}}' }, audience: { type: 'all' } });
const rss = rssSampler();
await sendCampaign(ctx, b.workspaceId, c.id);
const done = await waitFinal(b, c.id, 600_000);
const mem = rss.stop();
const stats = await mock.stats();
const engine = done.total / ((done.completedAt - done.startedAt) / 1000);
report('engine-throughput', {
  database: b.herald.ctx.db.flags.dialect, recipients: N, concurrency: CONCURRENCY,
  bareLoopPerSec: Math.round(bare), enginePerSec: Math.round(engine), ratio: Number((engine / bare).toFixed(2)),
  status: done.status, sent: done.sent, mockReceived: stats.received, mockUnique: stats.unique, peakRssMb: mem, bareLoopPeakRssMb: bareMem,
});
await b.close();
mock.close();
process.exit(0);
