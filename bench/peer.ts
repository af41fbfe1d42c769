/**
 * `npm run bench:peer`: the peer baseline. The same campaign (PEER_N recipients, default 100,000;
 * PEER_CONCURRENCY in flight, default 32) sent to the same mock Telegram provider (its own
 * process, zero latency, no rate limit) by three contenders, one after the other in this run:
 *
 *   1. bare loop: only POSTs the requests (the ceiling)             bench/peer/bare.ts
 *   2. BullMQ: one job per recipient, Redis with AOF (everysec)     bench/peer/bullmq.ts
 *   3. Herald: the engine, SQLite (or BENCH_DB_URL PostgreSQL)      bench/peer/herald.ts
 *
 * Each contender runs in its own child process (its peak RSS is its own), warms up with
 * PEER_WARMUP recipients (default 2,000), then the mock's counts are reset and the measured send
 * runs. After each, the mock must have received exactly N messages for N distinct chats, or the
 * run fails. The Redis server is private to this run (port PEER_REDIS_PORT, default 6390, data in
 * a temporary directory), started before BullMQ and shut down after it, whatever happens.
 * PEER_ONLY=bare,bullmq,herald picks contenders; PEER_PROFILE_DIR writes CPU profiles of the
 * measured phases. The whole run stops with exit 1 after PEER_DEADLINE_MS (default 12 minutes).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { report, startMock, type MockHandle } from './lib.ts';

const N = Number(process.env.PEER_N ?? 100_000);
const CONCURRENCY = Number(process.env.PEER_CONCURRENCY ?? 32);
const WARMUP = Number(process.env.PEER_WARMUP ?? 2000);
const REDIS_PORT = Number(process.env.PEER_REDIS_PORT ?? 6390);
const DEADLINE_MS = Number(process.env.PEER_DEADLINE_MS ?? 12 * 60_000);
const ONLY = (process.env.PEER_ONLY ?? 'bare,bullmq,herald').split(',');

const children = new Set<ChildProcess>();
let redis: { proc: ChildProcess; dir: string } | null = null;
/** The children's TMPDIR (Herald's data directory lands there), removed even when a child is killed. */
const scratch = mkdtempSync(path.join(os.tmpdir(), 'herald-peer-'));

/** Last resort on any exit: no child, no Redis and no Redis directory survive this script. */
function cleanUpNow(): void {
  for (const c of children) c.kill('SIGKILL');
  if (redis) {
    redis.proc.kill('SIGKILL');
    rmSync(redis.dir, { recursive: true, force: true });
    redis = null;
  }
  rmSync(scratch, { recursive: true, force: true });
}
process.on('exit', cleanUpNow);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(1));
const deadline = setTimeout(() => {
  process.stderr.write(`peer: not finished within ${DEADLINE_MS / 1000} s; stopping\n`);
  process.exit(1);
}, DEADLINE_MS);

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

// ---- Redis ------------------------------------------------------------------------------------

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ host: '127.0.0.1', port });
    s.setTimeout(500);
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

async function startRedis(): Promise<void> {
  if (await ping(REDIS_PORT)) throw new Error(`something already answers on 127.0.0.1:${REDIS_PORT}; set PEER_REDIS_PORT`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-peer-redis-'));
  const proc = spawn('redis-server', ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--dir', dir, '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  redis = { proc, dir };
  let log = '';
  proc.stdout!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  proc.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const until = Date.now() + 10_000;
  while (!(await ping(REDIS_PORT))) {
    if (proc.exitCode !== null || Date.now() > until) throw new Error(`redis-server did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Peak resident set of the Redis server (the kernel's high-water mark) and its AOF on disk. */
function redisFigures(): { redisPeakRssMb: number; redisAofMb: number } {
  const status = readFileSync(`/proc/${redis!.proc.pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  let aof = 0;
  const walk = (d: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      if (f.isDirectory()) walk(path.join(d, f.name));
      else if (f.name.includes('aof')) aof += statSync(path.join(d, f.name)).size;
    }
  };
  walk(redis!.dir);
  return { redisPeakRssMb: Math.round(hwm / 1024), redisAofMb: Number((aof / 1048576).toFixed(1)) };
}

async function stopRedis(): Promise<void> {
  if (!redis) return;
  const { proc, dir } = redis;
  if (proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM'); // Redis shuts down cleanly on SIGTERM (flushes the AOF)
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
  rmSync(dir, { recursive: true, force: true });
  redis = null;
}

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 10 ms). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// ---- contenders -------------------------------------------------------------------------------

type Result = Record<string, unknown> & { perSec: number; peakRssMb: number };

/** Runs one contender's child; `alsoPid` (Redis): its CPU during the measured phase is added as redisCpuMsPerMessage. */
function runContender(role: string, mock: MockHandle, env: Record<string, string> = {}, alsoPid?: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(import.meta.dirname, 'peer', `${role}.ts`), [], {
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env, ...env, TMPDIR: scratch,
        PEER_MOCK_URL: mock.url, PEER_MOCK_CREDENTIALS: JSON.stringify(mock.credentials),
        PEER_N: String(N), PEER_CONCURRENCY: String(CONCURRENCY), PEER_WARMUP: String(WARMUP),
      },
    });
    children.add(child);
    let res: Result | null = null;
    let cpuAtGo = 0;
    child.on('message', (m: { type: string; data?: Result }) => {
      if (m.type === 'warmed') {
        // The warm-up's messages are not part of the count.
        mock.reset().then(() => {
          if (alsoPid) cpuAtGo = cpuSecondsOf(alsoPid);
          child.send({ type: 'go' });
        }, reject);
      } else if (m.type === 'result') {
        res = m.data!;
        if (alsoPid) res.redisCpuMsPerMessage = Number((((cpuSecondsOf(alsoPid) - cpuAtGo) * 1000) / N).toFixed(3));
      }
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (code === 0 && res) resolve(res);
      else reject(new Error(`${role} child exited with ${code ?? signal} before reporting a result`));
    });
  });
}

/** The mock must have received exactly N messages for N distinct chats; then its counts are reset. */
async function checkMock(role: string, mock: MockHandle): Promise<{ mockReceived: number; mockUnique: number; mockRequests: number }> {
  const s = await mock.stats();
  await mock.reset();
  if (s.received !== N || s.unique !== N) throw new Error(`${role}: the mock received ${s.received} messages for ${s.unique} chats, expected ${N} and ${N}`);
  return { mockReceived: s.received, mockUnique: s.unique, mockRequests: s.requests };
}

async function main(): Promise<number> {
  process.stdout.write(`# ${new Date().toISOString()} · node ${process.version} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'} · load ${load()}\n`);
  const mock = await startMock('telegram', { latencyMs: 0 });
  const common = { recipients: N, concurrency: CONCURRENCY, warmup: WARMUP };
  const results: Record<string, Result> = {};
  try {
    if (ONLY.includes('bare')) {
      const loadBefore = load();
      const r = await runContender('bare', mock);
      results.bare = r;
      report('peer-bare', { ...common, ...r, ...(await checkMock('bare', mock)), loadBefore });
    }
    if (ONLY.includes('bullmq')) {
      const loadBefore = load();
      await startRedis();
      try {
        const r = await runContender('bullmq', mock, { PEER_REDIS_PORT: String(REDIS_PORT) }, redis!.proc.pid);
        const figures = redisFigures();
        results.bullmq = { ...r, ...figures };
        report('peer-bullmq', { ...common, ...r, ...figures, totalPeakRssMb: r.peakRssMb + figures.redisPeakRssMb, ...(await checkMock('bullmq', mock)), loadBefore });
      } finally {
        await stopRedis();
      }
    }
    if (ONLY.includes('herald')) {
      const loadBefore = load();
      const r = await runContender('herald', mock);
      results.herald = r;
      report('peer-herald', { ...common, ...r, ...(await checkMock('herald', mock)), loadBefore });
    }
    const { bare, bullmq, herald } = results;
    if (herald && (bare || bullmq)) {
      report('peer', {
        ...common, database: herald.database,
        bareLoopPerSec: bare?.perSec, bullmqPerSec: bullmq?.perSec, heraldPerSec: herald.perSec,
        bareLoopPeakRssMb: bare?.peakRssMb, bullmqPeakRssMb: bullmq?.peakRssMb, bullmqRedisPeakRssMb: bullmq?.redisPeakRssMb, heraldPeakRssMb: herald.peakRssMb,
        // CPU per message of each contender's own processes (BullMQ: Node + Redis): less sensitive
        // than recipients/s to other work on a shared machine.
        bareLoopCpuMs: bare?.cpuMsPerMessage, bullmqCpuMs: bullmq ? Number(((bullmq.cpuMsPerMessage as number) + (bullmq.redisCpuMsPerMessage as number)).toFixed(3)) : undefined, heraldCpuMs: herald.cpuMsPerMessage,
        heraldVsBare: bare ? Number((herald.perSec / bare.perSec).toFixed(2)) : undefined,
        heraldVsBullmq: bullmq ? Number((herald.perSec / bullmq.perSec).toFixed(2)) : undefined,
        targets: 'herald >= 0.8x bare, >= 2x bullmq',
        loadAfter: load(),
      });
    }
    return 0;
  } catch (err) {
    process.stderr.write(`peer: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  } finally {
    mock.close();
  }
}

const code = await main();
clearTimeout(deadline);
process.exit(code);
