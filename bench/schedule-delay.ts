/**
 * (d) Scheduling delay: campaigns scheduled 2–4 s ahead; the delay is started_at − scheduled_at
 * (the engine's own timestamps) — target ≤ 1 s.
 */
import { createCampaign } from '../src/campaigns/campaign-service.ts';
import { createChannel, report, seedMembers, startBenchHerald, waitFinal } from './lib.ts';

const COUNT = Number(process.env.BENCH_SCHEDULES ?? 5);
const b = await startBenchHerald();
const channelId = await createChannel(b, 'simulator', {}, 1000, {});
await seedMembers(b, channelId, 10);
b.herald.engine!.start();
const delays: number[] = [];
for (let i = 0; i < COUNT; i++) {
  const at = Date.now() + 2000 + Math.round(Math.random() * 2000);
  const c = await createCampaign(b.herald.ctx, b.workspaceId, { name: `s${i}`, channelId, message: { type: 'text', text: 'x' }, audience: { type: 'all' }, scheduledAt: new Date(at).toISOString() });
  const done = await waitFinal(b, c.id, 30_000);
  delays.push(done.startedAt - at);
}
delays.sort((a, b) => a - b);
report('schedule-delay', { campaigns: COUNT, minMs: delays[0], medianMs: delays[Math.floor(delays.length / 2)], maxMs: delays[delays.length - 1] });
await b.close();
process.exit(0);
