/**
 * `npm run torture`: crash torture. A 10,000-recipient campaign through a mock provider that
 * records every message it accepts; the `herald worker` process sending it is killed with SIGKILL
 * at 20 random moments (after a random number of messages, seeded) and restarted each time.
 * Then: recipients lost, recipients the provider received twice, and whether the counters add up.
 * Run for LINE (idempotency key: target exactly once) and Telegram (no key: nobody twice; calls
 * cut by a kill end "delivery uncertain").
 *
 * Env: TORTURE_N (10000), TORTURE_KILLS (20), TORTURE_SEED (1), TORTURE_PROVIDERS (line,telegram),
 * TORTURE_RATE (channel msgs/s, 400), BENCH_DB_URL (PostgreSQL; default SQLite).
 */
import type { ChildProcess } from 'node:child_process';
import { createCampaign, sendCampaign } from '../src/campaigns/campaign-service.ts';
import { createChannel, report, seedMembers, startBenchHerald, startMock, waitFinal } from './lib.ts';
import { kill, reconcile, sleep, spawnWorker } from './fault-lib.ts';
import { Rng } from './fuzz-kit.ts';
import { finish, timeBound } from './load-kit.ts';

const N = Number(process.env.TORTURE_N ?? 10_000);
const KILLS = Number(process.env.TORTURE_KILLS ?? 20);
const SEED = Number(process.env.TORTURE_SEED ?? 1);
const RATE = Number(process.env.TORTURE_RATE ?? 400);
const PROVIDERS = (process.env.TORTURE_PROVIDERS ?? 'line,telegram').split(',') as ('line' | 'telegram')[];
const DB = process.env.BENCH_DB_URL;
timeBound('torture', 15 * 60_000);

let failures = 0;
for (const provider of PROVIDERS) {
  const rng = new Rng(SEED);
  const random = () => rng.next();
  const mock = await startMock(provider, { latencyMs: 10 });
  const b = await startBenchHerald({ worker: false }, DB);
  const channelId = await createChannel(b, provider, mock.credentials, RATE, { apiBaseUrl: mock.url, timeoutMs: 5000 });
  await seedMembers(b, channelId, N, provider === 'line' ? 'U' : '');
  const ctx = b.herald.ctx;
  const c = await createCampaign(ctx, b.workspaceId, { name: `torture-${provider}`, channelId, message: { type: 'text', text: 'Hello {{name}}' }, audience: { type: 'all' } });
  await sendCampaign(ctx, b.workspaceId, c.id);

  const env: Record<string, string> = { HERALD_DATA_DIR: b.dataDir, HERALD_LEASE_MS: '1500', HERALD_LOG_LEVEL: 'warn', ...(DB ? { HERALD_DATABASE_URL: DB } : {}) };
  // Kill after these many messages have reached the provider (sorted random points), plus a random 0–250 ms.
  const points = Array.from({ length: KILLS }, () => Math.floor(random() * N * 0.95)).sort((a, b) => a - b);
  const started = Date.now();
  let worker: ChildProcess = spawnWorker(env);
  const killedAt: number[] = [];
  for (const at of points) {
    while ((await mock.stats()).received < at) await sleep(10);
    await sleep(Math.floor(random() * 250));
    killedAt.push((await mock.stats()).received);
    await kill(worker, 'SIGKILL');
    worker = spawnWorker(env);
  }
  const done = await waitFinal(b, c.id, 10 * 60_000);
  const seconds = (Date.now() - started) / 1000;
  await kill(worker, 'SIGTERM');
  const dump = await mock.dump();
  const r = await reconcile(ctx.db, c.id, dump);
  const ok = r.lost === 0 && r.receivedTwice === 0 && r.strangers === 0 && r.countersMatch && (provider !== 'line' || (r.sent === N && r.uncertain === 0));
  if (!ok) failures++;
  report('torture', {
    provider, database: ctx.db.flags.dialect, recipients: N, kills: killedAt.length, killedAfterMessages: killedAt, seconds: Number(seconds.toFixed(1)),
    status: done.status, ...r, providerReceived: dump.received.length, providerRequests: dump.requests, ok,
  });
  await b.close();
  mock.close();
}
await finish(failures ? 1 : 0);
