/**
 * (b) Pacing accuracy: a campaign on a channel limited to R/s, through a mock provider that
 * enforces R/s itself (its own 429 answer over the limit, fixed one-second windows). Reports the
 * achieved rate over the steady part of the run (first to last accepted message) and the number
 * of 429 answers the provider gave.
 */
import { createCampaign, sendCampaign } from '../src/campaigns/campaign-service.ts';
import { createChannel, report, seedMembers, startBenchHerald, startMock, waitFinal } from './lib.ts';

const rates = (process.env.BENCH_RATES ?? '80,1000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_PACING_SECONDS ?? 10);

for (const rate of rates) {
  const mock = await startMock('whatsapp', { latencyMs: 2, rateLimitPerSecond: rate });
  const b = await startBenchHerald({ engine: { concurrency: 64 } });
  const channelId = await createChannel(b, 'whatsapp', mock.credentials, rate, { apiBaseUrl: mock.url });
  const n = rate * SECONDS;
  await seedMembers(b, channelId, n, '');
  b.herald.engine!.start();
  const c = await createCampaign(b.herald.ctx, b.workspaceId, { name: 'pacing', channelId, message: { type: 'text', text: 'hi' }, audience: { type: 'all' } });
  await sendCampaign(b.herald.ctx, b.workspaceId, c.id);
  const done = await waitFinal(b, c.id, (SECONDS * 3 + 30) * 1000);
  const stats = await mock.stats(true);
  const times = stats.times!;
  const achieved = (times.length - 1) / ((times[times.length - 1] - times[0]) / 1000);
  // The busiest one-second window (sliding, by accepted message times).
  let maxWindow = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= 1000) j++;
    maxWindow = Math.max(maxWindow, i - j + 1);
  }
  report('pacing', {
    limitPerSec: rate, recipients: n, achievedPerSec: Number(achieved.toFixed(1)), errorPct: Number((((achieved - rate) / rate) * 100).toFixed(2)),
    busiestSlidingSecond: maxWindow, provider429s: stats.requests - stats.received, status: done.status, sent: done.sent,
  });
  await b.close();
  mock.close();
}
process.exit(0);
