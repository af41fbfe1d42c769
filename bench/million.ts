/**
 * (c) A 1,000,000-recipient campaign on the simulator (zero latency, no provider limit): the time
 * to fix the audience into recipient rows, peak memory (RSS of this process, which runs API and
 * engine) and recipients per second end to end.
 */
import { createCampaign, sendCampaign } from '../src/campaigns/campaign-service.ts';
import { fixAudienceBatch } from '../src/campaigns/audience.ts';
import { getCampaignById } from '../src/campaigns/campaigns-store.ts';
import { createChannel, report, rssSampler, seedMembers, startBenchHerald, waitFinal } from './lib.ts';

const N = Number(process.env.BENCH_MILLION ?? 1_000_000);
const b = await startBenchHerald({ engine: { concurrency: 64 } }, process.env.BENCH_DB_URL);
const channelId = await createChannel(b, 'simulator', {}, 1_000_000, {});
let t = performance.now();
await seedMembers(b, channelId, N);
const seedSeconds = (performance.now() - t) / 1000;
const rss = rssSampler();
const ctx = b.herald.ctx;
const c = await createCampaign(ctx, b.workspaceId, { name: 'million', channelId, message: { type: 'text', text: 'Hello {{name}} from {{city|home}}' }, audience: { type: 'all' } });

// Fix the audience first, alone, to time it; then let the engine send.
t = performance.now();
await sendCampaign(ctx, b.workspaceId, c.id); // fixes for up to 1 s inline
const campaign = (await getCampaignById(ctx.db, c.id))!;
while (!(await fixAudienceBatch(ctx.db, campaign))) { /* next 5,000 */ }
const fixSeconds = (performance.now() - t) / 1000;
b.herald.engine!.start();
const done = await waitFinal(b, c.id, 1_800_000);
const peak = rss.stop();
const sendSeconds = (done.completedAt - done.startedAt) / 1000 - fixSeconds;
report('million', {
  database: ctx.db.flags.dialect, recipients: N, seedSeconds: Number(seedSeconds.toFixed(1)), fixAudienceSeconds: Number(fixSeconds.toFixed(1)),
  sendPerSec: Math.round(done.total / sendSeconds), endToEndSeconds: Number(((done.completedAt - done.startedAt) / 1000).toFixed(1)),
  peakRssMb: peak, status: done.status, sent: done.sent, total: done.total,
});
await b.close();
process.exit(0);
