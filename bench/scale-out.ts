/**
 * `npm run bench:scale`: scale-out on PostgreSQL. 20 channels (each its own mock provider server
 * enforcing the channel's rate with its own 429), one campaign per channel, all sent at once, by
 * 1, 2 and 4 `herald worker` processes. Reports recipients/s per worker count (and as a ratio to
 * one worker), recipients received twice, and each channel's busiest second against its rate.
 *
 * Env: SCALE_WORKERS (1,2,4), SCALE_PER_CHANNEL (2500), SCALE_CHANNELS (20), SCALE_RATE (per
 * channel msgs/s, 400), BENCH_DB_URL (a PostgreSQL database; default the local `test` database;
 * each worker count gets its own fresh schema, dropped at the end).
 */
import type { ChildProcess } from 'node:child_process';
import { createCampaign, sendCampaign } from '../src/campaigns/campaign-service.ts';
import { createChannel, report, seedMembers, startBenchHerald, startMocks, waitFinal } from './lib.ts';
import { kill, maxPerSecond, reconcile, sleep, spawnWorker } from './fault-lib.ts';
import { finish, freshDbUrl, timeBound } from './load-kit.ts';

const WORKERS = (process.env.SCALE_WORKERS ?? '1,2,4').split(',').map(Number);
const PER_CHANNEL = Number(process.env.SCALE_PER_CHANNEL ?? 2500);
const CHANNELS = Number(process.env.SCALE_CHANNELS ?? 20);
const RATE = Number(process.env.SCALE_RATE ?? 400);
const BASE = process.env.BENCH_DB_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
timeBound('scale-out', 20 * 60_000);

let failures = 0;
let oneWorker = 0;
for (const k of WORKERS) {
  const url = (await freshDbUrl(BASE, `scale_out_${k}`))!;
  const mocks = await startMocks('telegram', { latencyMs: 10, rateLimitPerSecond: RATE }, CHANNELS);
  const b = await startBenchHerald({ worker: false }, url);
  const ctx = b.herald.ctx;
  const campaigns: string[] = [];
  for (let i = 0; i < CHANNELS; i++) {
    const channelId = await createChannel(b, 'telegram', mocks[i].credentials, RATE, { apiBaseUrl: mocks[i].url, timeoutMs: 5000 });
    await seedMembers(b, channelId, PER_CHANNEL, String(i + 1));
    campaigns.push((await createCampaign(ctx, b.workspaceId, { name: `scale-${i}`, channelId, message: { type: 'text', text: 'Hello {{name}}' }, audience: { type: 'all' } })).id);
  }
  const workers: ChildProcess[] = Array.from({ length: k }, () => spawnWorker({ HERALD_DATA_DIR: b.dataDir, HERALD_DATABASE_URL: url }));
  await sleep(3000); // let the workers boot (they poll for sending campaigns)
  for (const id of campaigns) await sendCampaign(ctx, b.workspaceId, id);
  const finals = [];
  for (const id of campaigns) finals.push(await waitFinal(b, id, 15 * 60_000));
  const started = Math.min(...finals.map((f) => f.startedAt));
  const completed = Math.max(...finals.map((f) => f.completedAt));
  const total = finals.reduce((s, f) => s + f.total, 0);
  const perSec = total / ((completed - started) / 1000);
  if (k === WORKERS[0]) oneWorker = perSec;
  await Promise.all(workers.map((w) => kill(w, 'SIGTERM')));

  let twice = 0, lost = 0, overLimit = 0, sent = 0, busiest = 0, uncertain = 0;
  let countersMatch = true;
  for (let i = 0; i < CHANNELS; i++) {
    const dump = await mocks[i].dump();
    const r = await reconcile(ctx.db, campaigns[i], dump);
    twice += r.receivedTwice;
    lost += r.lost;
    sent += r.sent;
    uncertain += r.uncertain;
    countersMatch &&= r.countersMatch;
    overLimit += dump.rateLimited.overLimit;
    busiest = Math.max(busiest, maxPerSecond(dump.received.map((m) => m.at)));
  }
  const ok = twice === 0 && lost === 0 && countersMatch && sent === total && busiest <= RATE && overLimit === 0;
  if (!ok) failures++;
  report('scale-out', {
    database: 'postgres', workers: k, channels: CHANNELS, perChannelRate: RATE, recipients: total,
    seconds: Number(((completed - started) / 1000).toFixed(1)), recipientsPerSec: Math.round(perSec), vsOneWorker: Number((perSec / oneWorker).toFixed(2)),
    sent, uncertain, lost, receivedTwice: twice, countersMatch, busiestChannelSecond: busiest, overLimit429: overLimit, ok,
  });
  await b.close();
  mocks[0].close();
}
await finish(failures ? 1 : 0);
