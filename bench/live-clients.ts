/**
 * 1,000 WebSocket clients watching one sending campaign (`npm run bench:live`).
 *
 * (a) Engine slowdown: the same campaign (LIVE_N recipients, default 50,000) is sent by a fresh
 *     Herald with 0 clients and with LIVE_CLIENTS (default 1,000) clients subscribed to it, in the
 *     order 0, C, C, 0 (LIVE_ROUNDS=2, the default; each round is one run of each), so drift in
 *     the machine's load hits both sides alike, after a warm-up send that is not counted. Recipients/s = total / (completed_at − started_at).
 *     The campaign is engine-bound: channel rate 1,000,000/s, a zero-latency mock provider
 *     (Telegram wire format) in a child process (LIVE_PROVIDER=simulator: the built-in simulator).
 * (b) Event delay: for each campaign.progress event a client receives, receive time − the event's
 *     `at` (same machine clock), over every client; plus events per client, whether every client
 *     got the final status, and the spread of one event across clients (last − first receive).
 *
 * Herald listens on 127.0.0.1 (port 0); the clients run in a forked child (ws-clients-process.ts)
 * and authenticate with `Authorization: Bearer <key>`. Every run gets a fresh database (SQLite
 * file, or a new schema of BENCH_DB_URL) with the same seeded members. Measured in Herald's
 * process during each send: event-loop delay (perf_hooks) and CPU.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { createCampaign, sendCampaign } from '../src/campaigns/campaign-service.ts';
import { createChannel, report, seedMembers, startBenchHerald, startMock, waitFinal, type MockHandle } from './lib.ts';
import { cpuMeter, eventLoopDelay, finish, freshDbUrl, machineLoad, onCleanup, percentiles, timeBound } from './load-kit.ts';

const N = Number(process.env.LIVE_N ?? 50_000);
const CLIENTS = Number(process.env.LIVE_CLIENTS ?? 1000);
const ROUNDS = Number(process.env.LIVE_ROUNDS ?? 2);
const PROVIDER = process.env.LIVE_PROVIDER === 'simulator' ? 'simulator' : 'mock';
const CONCURRENCY = Number(process.env.LIVE_CONCURRENCY ?? 32);
const DB = process.env.BENCH_DB_URL;
const FINAL = ['sent', 'failed', 'partial', 'cancelled'];

timeBound('live-clients', 12 * 60_000);
const loadAtStart = machineLoad();

// The clients' process.
const child = fork(path.join(import.meta.dirname, 'ws-clients-process.ts'), [], { execArgv: ['--import', 'tsx'] });
onCleanup(() => {
  if (child.connected) child.disconnect();
  child.kill();
});
const ask = <T>(msg: unknown): Promise<T> => new Promise((resolve, reject) => {
  child.once('message', (m: any) => (m?.error ? reject(new Error(m.error)) : resolve(m as T)));
  child.send(msg as never);
});
await new Promise<void>((resolve, reject) => {
  child.once('message', () => resolve());
  child.once('error', reject);
});

let mock: MockHandle | null = null;
if (PROVIDER === 'mock') {
  mock = await startMock('telegram', { latencyMs: 0 });
  onCleanup(() => mock!.close());
}

interface Collected { clients: number; delays: number[]; eventsPerClient: number[]; withFinal: number; errors: number; spreads: number[]; cpuPct: number }

interface Run {
  clients: number;
  perSec: number;
  seconds: number;
  status: string;
  sent: number;
  mockUnique: number | null;
  eventLoop: { p50: number; p99: number; max: number; mean: number };
  heraldCpuPct: number;
  collected: Collected | null;
  /** ms per published event spent in the bus fan-out */
  fanout: number[];
  fanoutPctOfSend: number;
}

async function run(clients: number, index: number, n = N): Promise<Run> {
  const b = await startBenchHerald({ engine: { concurrency: CONCURRENCY } }, await freshDbUrl(DB, `live${index}`));
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await b.close();
    }
  };
  onCleanup(close);
  const address = await b.herald.app!.listen({ port: 0, host: '127.0.0.1' });
  const channelId = PROVIDER === 'mock'
    ? await createChannel(b, 'telegram', mock!.credentials, 1_000_000, { apiBaseUrl: mock!.url })
    : await createChannel(b, 'simulator', {}, 1_000_000, {});
  await seedMembers(b, channelId, n, PROVIDER === 'mock' ? '' : 'u');
  await mock?.reset();
  b.herald.engine!.start();
  const ctx = b.herald.ctx;
  const c = await createCampaign(ctx, b.workspaceId, { name: `live ${index}`, channelId, message: { type: 'text', text: 'hello {{name}}' }, audience: { type: 'all' } });
  if (clients > 0) {
    const r = await ask<{ connected: number; failed: number; ms: number; firstError?: string }>({ cmd: 'connect', url: `${address.replace('http', 'ws')}/api/v1/ws`, key: ctx.config.apiKey, campaignId: c.id, clients });
    if (r.connected !== clients) throw new Error(`only ${r.connected}/${clients} clients subscribed (${r.failed} failed: ${r.firstError})`);
    process.stderr.write(`# run ${index}: ${clients} clients subscribed in ${r.ms} ms\n`);
  }
  await new Promise((r) => setTimeout(r, 500)); // let the connection burst settle
  // Time spent in the bus fan-out (synchronous: every subscriber's socket write happens inside).
  const fanout: number[] = [];
  const bus = ctx.bus;
  const publish = bus.publish.bind(bus);
  bus.publish = (e) => {
    const t = performance.now();
    publish(e);
    fanout.push(performance.now() - t);
  };
  const eld = eventLoopDelay();
  const cpu = cpuMeter();
  await sendCampaign(ctx, b.workspaceId, c.id);
  const done = await waitFinal(b, c.id, 600_000);
  const eventLoop = eld.stop();
  const heraldCpuPct = cpu.stop();
  const collected = clients > 0 ? await ask<Collected>({ cmd: 'collect', finalStatuses: FINAL, timeoutMs: 10_000 }) : null;
  const stats = await mock?.stats();
  await close();
  const seconds = (done.completedAt - done.startedAt) / 1000;
  const fanoutMs = fanout.reduce((a, x) => a + x, 0);
  const r: Run = { clients, perSec: Math.round(done.total / seconds), seconds, status: done.status, sent: done.sent, mockUnique: stats?.unique ?? null, eventLoop, heraldCpuPct, collected, fanout, fanoutPctOfSend: (fanoutMs / 1000 / seconds) * 100 };
  const ev = collected ? percentiles(collected.delays, [50, 99, 100]) : null;
  report('live-clients-run', {
    run: index, ...(index === 0 ? { warmup: true } : {}), clients, recipients: n, perSec: r.perSec, seconds: Number(seconds.toFixed(2)), status: r.status, sent: r.sent, mockUnique: r.mockUnique,
    eventLoopDelayMs: eventLoop, heraldCpuPct,
    published: fanout.length, fanoutMsPerEvent: round(percentiles(fanout, [50, 99, 100])), fanoutPctOfSend: Number(r.fanoutPctOfSend.toFixed(1)),
    ...(collected ? { delayMs: ev, events: collected.delays.length, withFinal: collected.withFinal, clientsCpuPct: collected.cpuPct } : {}),
  });
  return r;
}

function round(o: Record<string, number | null>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? null : Number(v.toFixed(2))]));
}

const order: number[] = [];
for (let i = 0; i < ROUNDS; i++) order.push(...(i % 2 === 0 ? [0, CLIENTS] : [CLIENTS, 0]));
const runs: Run[] = [];
// A warm-up send first (not counted): the first send of a process, and of the mock's process,
// runs on cold JIT and caches and came out 20-30% slower than the next one in trial runs.
await run(0, 0, Math.min(N, Number(process.env.LIVE_WARMUP_N ?? 10_000)));
for (const [i, clients] of order.entries()) runs.push(await run(clients, i + 1));

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
const without = runs.filter((r) => r.clients === 0);
const withClients = runs.filter((r) => r.clients > 0);
const rate0 = mean(without.map((r) => r.perSec));
const rateC = mean(withClients.map((r) => r.perSec));
const all = withClients.map((r) => r.collected!);
const delays = all.flatMap((c) => c.delays);
const perClient = all.flatMap((c) => c.eventsPerClient);
const every = runs.every((r) => r.status === 'sent' && r.sent === N && (r.mockUnique === null || r.mockUnique === N));
report('live-clients', {
  database: DB ? 'postgres' : 'sqlite', provider: PROVIDER === 'mock' ? 'telegram mock (child process, 0 ms)' : 'simulator (0 ms)',
  recipients: N, clients: CLIENTS, order: order.join(','),
  perSecWithout: Math.round(rate0), perSecWith: Math.round(rateC), slowdownPct: Number((((rate0 - rateC) / rate0) * 100).toFixed(1)),
  runsPerSec: runs.map((r) => `${r.clients}:${r.perSec}`).join(' '),
  delayMs: percentiles(delays, [50, 95, 99, 100]), events: delays.length,
  eventsPerClient: percentiles(perClient, [0, 50, 100]),
  clientsWithFinal: all.reduce((n, c) => n + c.withFinal, 0), clientRuns: all.reduce((n, c) => n + c.clients, 0),
  spreadMs: percentiles(all.flatMap((c) => c.spreads), [50, 99, 100]),
  fanoutMsPerEventWith: round(percentiles(withClients.flatMap((r) => r.fanout), [50, 99, 100])),
  fanoutPctOfSendWith: Number(mean(withClients.map((r) => r.fanoutPctOfSend)).toFixed(1)),
  heraldCpuPctWith: Math.round(mean(withClients.map((r) => r.heraldCpuPct))), heraldCpuPctWithout: Math.round(mean(without.map((r) => r.heraldCpuPct))),
  clientsCpuPct: Math.round(mean(all.map((c) => c.cpuPct))),
  clientErrors: all.reduce((n, c) => n + c.errors, 0),
  eventLoopDelayMsWith: { p99: Math.max(...withClients.map((r) => r.eventLoop.p99)), max: Math.max(...withClients.map((r) => r.eventLoop.max)) },
  eventLoopDelayMsWithout: { p99: Math.max(...without.map((r) => r.eventLoop.p99)), max: Math.max(...without.map((r) => r.eventLoop.max)) },
  allSentOnce: every, loadAtStart, loadAtEnd: machineLoad(),
});
await finish(every ? 0 : 1);
