/**
 * Peer baseline, contender 3: Herald's engine (API and engine in this one process), as
 * bench/engine-throughput.ts runs it: a Telegram channel at 1,000,000/s pointing at the mock,
 * members seeded in SQL, a campaign created and sent, time from `started_at` to `completed_at`.
 * SQLite by default, PostgreSQL when BENCH_DB_URL is set. The warm-up is a small campaign on a
 * second channel (same mock), so the JIT and the prepared statements are warm for both.
 */
import { createCampaign, sendCampaign } from '../../src/campaigns/campaign-service.ts';
import { createChannel, rssSampler, seedMembers, startBenchHerald, waitFinal } from '../lib.ts';
import { cpuMeter, params, profiler, result, warmedUp } from './child.ts';

const p = params();
const b = await startBenchHerald({ engine: { concurrency: p.concurrency } }, process.env.BENCH_DB_URL);
const ctx = b.herald.ctx;
const settings = { apiBaseUrl: p.mockUrl };
const warmChannel = await createChannel(b, 'telegram', p.credentials, 1_000_000, settings);
const channel = await createChannel(b, 'telegram', p.credentials, 1_000_000, settings);
// Provider user ids '' + (1000000000 + i): the same chat ids and names ("Member i") as the others.
await seedMembers(b, warmChannel, p.warmup, '');
await seedMembers(b, channel, p.n, '');
b.herald.engine!.start();

async function campaign(name: string, channelId: string) {
  const c = await createCampaign(ctx, b.workspaceId, { name, channelId, message: { type: 'text', text: 'hello {{name}}' }, audience: { type: 'all' } });
  await sendCampaign(ctx, b.workspaceId, c.id);
  return waitFinal(b, c.id, 600_000);
}

await campaign('warm-up', warmChannel);
await warmedUp();
const prof = await profiler('herald');
const rss = rssSampler();
const cpu = cpuMeter();
const done = await campaign('peer', channel);
const peakRssMb = rss.stop();
const cpuSeconds = cpu.stop();
const profile = await prof.stop();
const seconds = (done.completedAt - done.startedAt) / 1000;
await result({
  database: ctx.db.flags.dialect, perSec: Math.round(done.total / seconds), seconds: Number(seconds.toFixed(2)),
  status: done.status, sent: done.sent, failed: done.failed, total: done.total, peakRssMb, cpuMsPerMessage: Number(((cpuSeconds * 1000) / p.n).toFixed(3)), ...(profile ? { profile } : {}),
});
await b.close();
process.exit(0);
