/**
 * API latency while a big campaign sends (`npm run bench:api`): `GET /api/v1/campaigns/{id}` p99
 * measured with wrk against Herald on 127.0.0.1 (one process running API and engine, like
 * `herald start`), first on the idle server (the baseline), then while an API_N-recipient
 * campaign (default 1,000,000; simulator, zero latency, no rate limit) is sent.
 *
 * wrk: `wrk -t2 -c16 -d<API_WRK_SECONDS, 20>s --latency --timeout 30s -H 'Authorization: Bearer …'
 * -s <done() script> URL`. The --timeout keeps requests slower than wrk's default 2 s (up to 30 s) in the
 * distribution instead of counting them as errors; the script adds p99.9, max and error counts to
 * wrk's own 50/75/90/99 distribution (both are parsed).
 *
 * The loaded phase: wrk window 1 starts while the campaign is still a draft; 1 s later the send
 * request (POST …/send over HTTP) starts, which fixes the audience for up to 1 s inline; the
 * engine fixes the rest in the background while it sends. Windows of wrk alternate with gaps of
 * API_GAP_SECONDS (default 10) without load until the campaign completes, so wrk covers most of
 * the sending phase and the engine's recipients/s with and without API load comes from the same
 * campaign (segments while the audience is completely fixed). Progress at each window's start
 * and end, and Herald's event-loop delay (perf_hooks) in every segment, are reported.
 *
 * API_MODE=split runs the engine as a separate `herald worker` process on the same database
 * (`herald api` + `herald worker`, the deployment the README recommends for big sends): the API
 * process then only answers HTTP. Default `single` (one process, like `npm start`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCampaign } from '../src/campaigns/campaign-service.ts';
import { createChannel, report, seedMembers, startBenchHerald } from './lib.ts';
import { eventLoopDelay, finish, freshDbUrl, machineLoad, onCleanup, timeBound } from './load-kit.ts';
import { spawnWorker } from './fault-lib.ts';

const N = Number(process.env.API_N ?? 1_000_000);
const WRK_SECONDS = Number(process.env.API_WRK_SECONDS ?? 20);
const GAP_SECONDS = Number(process.env.API_GAP_SECONDS ?? 10);
const BUDGET_MS = 11 * 60_000;
const started = Date.now();

timeBound('api-latency', 12 * 60_000);
const loadAtStart = machineLoad();

const tmp = mkdtempSync(path.join(tmpdir(), 'herald-wrk-'));
onCleanup(() => rmSync(tmp, { recursive: true, force: true }));
const script = path.join(tmp, 'done.lua');
writeFileSync(script, `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKJSON {\\"p50\\":%d,\\"p90\\":%d,\\"p99\\":%d,\\"p99_9\\":%d,\\"max\\":%d,\\"requests\\":%d,\\"non2xx\\":%d,\\"socketErrors\\":%d,\\"timeouts\\":%d}\\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max,
    summary.requests, e.status, e.connect + e.read + e.write, e.timeout))
end
`);

const SPLIT = process.env.API_MODE === 'split';
const dbUrl = await freshDbUrl(process.env.BENCH_DB_URL, 'api');
const b = await startBenchHerald({ engine: { concurrency: 64 }, worker: !SPLIT }, dbUrl);
onCleanup(() => b.close());
const address = await b.herald.app!.listen({ port: 0, host: '127.0.0.1' });
const key = b.herald.ctx.config.apiKey!;
const ctx = b.herald.ctx;
const channelId = await createChannel(b, 'simulator', {}, 1_000_000, {});
let t = performance.now();
await seedMembers(b, channelId, N);
const seedSeconds = (performance.now() - t) / 1000;
const c = await createCampaign(ctx, b.workspaceId, { name: 'api latency', channelId, message: { type: 'text', text: 'Hello {{name}} from {{city|home}}' }, audience: { type: 'all' } });
if (SPLIT) {
  const worker = spawnWorker({ HERALD_DATA_DIR: b.dataDir, HERALD_WORKER_CONCURRENCY: '64', ...(dbUrl ? { HERALD_DATABASE_URL: dbUrl } : {}) });
  onCleanup(() => void worker.kill('SIGKILL'));
} else b.herald.engine!.start();
const url = `${address}/api/v1/campaigns/${c.id}`;
const check = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
if (check.status !== 200) throw new Error(`GET ${url} answered ${check.status}`);
await check.text();

interface Wrk {
  /** wrk's --latency distribution, ms */
  distribution: Record<string, number>;
  /** from the done() script, ms */
  p99_9: number;
  max: number;
  requests: number;
  perSec: number;
  non2xx: number;
  socketErrors: number;
  timeouts: number;
}

const UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function runWrk(seconds: number): Promise<Wrk> {
  return new Promise((resolve, reject) => {
    const p = spawn('wrk', ['-t2', '-c16', `-d${seconds}s`, '--latency', '--timeout', '30s', '-H', `Authorization: Bearer ${key}`, '-s', script, url], { stdio: ['ignore', 'pipe', 'inherit'] });
    onCleanup(() => {
      if (p.exitCode === null) p.kill();
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${out}`));
      const distribution: Record<string, number> = {};
      const dist = out.slice(out.indexOf('Latency Distribution'));
      for (const m of dist.matchAll(/^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$/gm)) distribution[`p${m[1]}`] = Number((Number(m[2]) * UNITS[m[3]]).toFixed(2));
      const json = /WRKJSON (\{.*\})/.exec(out);
      const perSec = /Requests\/sec:\s+([\d.]+)/.exec(out);
      if (!json || !perSec || !distribution.p99) return reject(new Error(`could not parse wrk output:\n${out}`));
      const j = JSON.parse(json[1]) as Record<string, number>;
      resolve({ distribution, p99_9: j.p99_9 / 1000, max: j.max / 1000, requests: j.requests, perSec: Math.round(Number(perSec[1])), non2xx: j.non2xx, socketErrors: j.socketErrors, timeouts: j.timeouts });
    });
  });
}

async function progress() {
  const r = await ctx.db.k.selectFrom('campaigns').select(['status', 'total', 'sent', 'failed', 'skipped', 'audience_fixed', 'started_at', 'completed_at']).where('id', '=', c.id).executeTakeFirstOrThrow();
  return { at: Date.now(), status: r.status, total: r.total, processed: r.sent + r.failed + r.skipped, audienceFixed: r.audience_fixed === 1, startedAt: r.started_at, completedAt: r.completed_at };
}
type Progress = Awaited<ReturnType<typeof progress>>;
const FINAL = ['sent', 'failed', 'partial', 'cancelled'];
const fmt = (p: Progress) => `${p.status} ${p.processed}/${p.total}${p.audienceFixed ? '' : ' (audience being fixed)'}`;

// 1. Baseline: the same GET on the idle server (draft campaign, engine started and idle).
let eld = eventLoopDelay();
const idle = await runWrk(WRK_SECONDS);
const idleLoop = eld.stop();
report('api-latency-idle', { recipients: N, seconds: WRK_SECONDS, latencyMs: { ...idle.distribution, p99_9: idle.p99_9, max: idle.max }, requestsPerSec: idle.perSec, requests: idle.requests, non2xx: idle.non2xx, socketErrors: idle.socketErrors, timeouts: idle.timeouts, eventLoopDelayMs: idleLoop });

// 2. Under load: wrk windows alternating with quiet gaps until the campaign completes.
interface Segment { kind: 'wrk' | 'gap'; start: Progress; end: Progress; loop: ReturnType<ReturnType<typeof eventLoopDelay>['stop']>; wrk?: Wrk }
const segments: Segment[] = [];
let sendMs = 0;
for (let i = 0; ; i++) {
  const start = await progress();
  if (FINAL.includes(start.status)) break;
  if (Date.now() - started > BUDGET_MS) throw new Error(`campaign not finished within the time budget (${fmt(start)})`);
  eld = eventLoopDelay();
  const wrk = runWrk(WRK_SECONDS);
  if (i === 0) {
    await new Promise((r) => setTimeout(r, 1000));
    t = performance.now();
    const res = await fetch(`${url}/send`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    sendMs = Math.round(performance.now() - t);
    if (res.status !== 200) throw new Error(`send answered ${res.status}: ${await res.text()}`);
    await res.text();
  }
  const w = await wrk;
  const end = await progress();
  const seg: Segment = { kind: 'wrk', start, end, loop: eld.stop(), wrk: w };
  segments.push(seg);
  report('api-latency-window', {
    window: i + 1, seconds: WRK_SECONDS, progressAtStart: fmt(start), progressAtEnd: fmt(end),
    latencyMs: { ...w.distribution, p99_9: w.p99_9, max: w.max }, requestsPerSec: w.perSec, non2xx: w.non2xx, socketErrors: w.socketErrors, timeouts: w.timeouts,
    enginePerSec: Math.round((end.processed - start.processed) / ((end.at - start.at) / 1000)), eventLoopDelayMs: seg.loop,
    ...(i === 0 ? { sendRequestMs: sendMs } : {}),
  });
  if (FINAL.includes(end.status) || GAP_SECONDS <= 0) continue;
  eld = eventLoopDelay();
  await new Promise((r) => setTimeout(r, GAP_SECONDS * 1000));
  const gapEnd = await progress();
  segments.push({ kind: 'gap', start: end, end: gapEnd, loop: eld.stop() });
}
// A last window may have started after the campaign completed: wait for the final state anyway.
let last = await progress();
while (!FINAL.includes(last.status)) {
  if (Date.now() - started > BUDGET_MS) throw new Error(`campaign not finished within the time budget (${fmt(last)})`);
  await new Promise((r) => setTimeout(r, 200));
  last = await progress();
}

// Engine rate with and without API load: segments run entirely while the audience was fixed and
// the campaign sending (the one in which it completes counts up to its completion).
function rate(kind: 'wrk' | 'gap') {
  let n = 0;
  let ms = 0;
  for (const s of segments.filter((x) => x.kind === kind && x.start.audienceFixed && x.start.status === 'sending')) {
    const endAt = FINAL.includes(s.end.status) ? s.end.completedAt! : s.end.at;
    n += s.end.processed - s.start.processed;
    ms += endAt - s.start.at;
  }
  return ms > 0 ? Math.round(n / (ms / 1000)) : null;
}
const windows = segments.filter((s) => s.kind === 'wrk');
const worst = windows.reduce((a, s) => (s.wrk!.distribution.p99 > a.wrk!.distribution.p99 ? s : a));
const sendSeconds = (last.completedAt! - last.startedAt!) / 1000;
const perSecLoaded = rate('wrk');
const perSecQuiet = rate('gap');
report('api-latency', {
  database: ctx.db.flags.dialect, mode: SPLIT ? 'split: herald api + herald worker' : 'single process (npm start)', recipients: N, seedSeconds: Number(seedSeconds.toFixed(1)), wrk: `-t2 -c16 -d${WRK_SECONDS}s --latency --timeout 30s`,
  idleP99Ms: idle.distribution.p99, idleP50Ms: idle.distribution.p50, idleRequestsPerSec: idle.perSec,
  sendingP99Ms: worst.wrk!.distribution.p99, sendingP99MsPerWindow: windows.map((s) => s.wrk!.distribution.p99),
  sendingP50MsPerWindow: windows.map((s) => s.wrk!.distribution.p50), sendingMaxMsPerWindow: windows.map((s) => s.wrk!.max),
  sendingRequestsPerSec: windows.map((s) => s.wrk!.perSec),
  ratioP99: Number((worst.wrk!.distribution.p99 / idle.distribution.p99).toFixed(1)),
  worstWindow: { progressAtStart: fmt(worst.start), progressAtEnd: fmt(worst.end) },
  wrkCoveredSendPct: Math.round((windows.reduce((a, s) => a + Math.min(s.end.at, last.completedAt!) - Math.max(s.start.at, last.startedAt ?? s.start.at), 0) / (last.completedAt! - last.startedAt!)) * 100),
  enginePerSecUnderLoad: perSecLoaded, enginePerSecWithoutLoad: perSecQuiet,
  engineSlowdownPct: perSecLoaded !== null && perSecQuiet ? Number((((perSecQuiet - perSecLoaded) / perSecQuiet) * 100).toFixed(1)) : null,
  sendSeconds: Number(sendSeconds.toFixed(1)), sendPerSecOverall: Math.round(last.total / sendSeconds),
  eventLoopDelayMsIdle: idleLoop, eventLoopDelayMsMaxP99UnderLoad: Math.max(...windows.map((s) => s.loop.p99)), eventLoopDelayMsMaxUnderLoad: Math.max(...windows.map((s) => s.loop.max)),
  status: last.status, total: last.total, processed: last.processed,
  errors: windows.reduce((a, s) => a + s.wrk!.non2xx + s.wrk!.socketErrors + s.wrk!.timeouts, idle.non2xx + idle.socketErrors + idle.timeouts),
  loadAtStart, loadAtEnd: machineLoad(),
});
await finish(last.status === 'sent' && last.processed === N ? 0 : 1);
