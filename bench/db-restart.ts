/**
 * `npm run bench:db-restart`: PostgreSQL restarted under a sending campaign. By default the run
 * makes its own throwaway PostgreSQL server (initdb + pg_ctl as the postgres user, port 5439) so
 * the machine's shared server is left alone; DB_RESTART_CLUSTER=15/main restarts that cluster
 * with `pg_ctlcluster --skip-systemctl-redirect 15 main restart` instead (and uses BENCH_DB_URL).
 *
 * A 10,000-recipient LINE campaign is sent by Herald's engine in this process (as `npm start`
 * runs it) and by one `herald worker` process. The server is restarted three times: at 25%
 * (fast shutdown), 50% (immediate: a crash, WAL recovery at start) and 75% (fast). Nothing may
 * be lost or sent twice; the engine must finish on its own; the LISTEN/NOTIFY event path must
 * deliver events again after each restart.
 *
 * Env: DB_RESTART_N (10000), DB_RESTART_RATE (400).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createCampaign, sendCampaign } from '../src/campaigns/campaign-service.ts';
import { createChannel, report, seedMembers, startBenchHerald, startMock, waitFinal } from './lib.ts';
import { kill, reconcile, sleep, spawnWorker } from './fault-lib.ts';
import { finish, freshDbUrl, timeBound } from './load-kit.ts';

const N = Number(process.env.DB_RESTART_N ?? 10_000);
const RATE = Number(process.env.DB_RESTART_RATE ?? 400);
const CLUSTER = process.env.DB_RESTART_CLUSTER; // e.g. 15/main
const PORT = 5439;
const BIN = '/usr/lib/postgresql/15/bin';
timeBound('db-restart', 12 * 60_000);

const asPostgres = (cmd: string, args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

let dir: string | null = null;
let dbUrl: string;
let restart: (mode: 'fast' | 'immediate') => void;
if (CLUSTER) {
  const [version, name] = CLUSTER.split('/');
  dbUrl = (await freshDbUrl(process.env.BENCH_DB_URL ?? 'postgres://postgres@127.0.0.1:5432/test', 'db_restart'))!;
  restart = (mode) => void execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', '-m', mode, version, name, 'restart'], { stdio: 'ignore' });
} else {
  dir = mkdtempSync(path.join(tmpdir(), 'herald-pg-'));
  chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  const data = path.join(dir, 'data');
  asPostgres(`${BIN}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const opts = `-p ${PORT} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`;
  asPostgres(`${BIN}/pg_ctl`, ['-D', data, '-o', opts, '-l', path.join(dir, 'log'), '-w', 'start']);
  dbUrl = `postgres://postgres@127.0.0.1:${PORT}/postgres`;
  restart = (mode) => void asPostgres(`${BIN}/pg_ctl`, ['-D', data, '-o', opts, '-l', path.join(dir!, 'log'), '-m', mode, '-w', 'restart']);
}
const cleanup = () => {
  if (!dir) return;
  try { asPostgres(`${BIN}/pg_ctl`, ['-D', path.join(dir, 'data'), '-m', 'immediate', '-w', 'stop']); } catch { /* already down */ }
  rmSync(dir, { recursive: true, force: true });
  dir = null;
};
process.on('exit', cleanup);

let worker: ChildProcess | null = null;
let ok = false;
try {
  const mock = await startMock('line', { latencyMs: 10 });
  const b = await startBenchHerald({ engine: { leaseMs: 3000 } }, dbUrl);
  const ctx = b.herald.ctx;
  const channelId = await createChannel(b, 'line', mock.credentials, RATE, { apiBaseUrl: mock.url, timeoutMs: 5000 });
  await seedMembers(b, channelId, N, 'U');
  const c = await createCampaign(ctx, b.workspaceId, { name: 'db-restart', channelId, message: { type: 'text', text: 'Hello {{name}}' }, audience: { type: 'all' } });
  // Progress events seen by this process after each restart (from either engine, via NOTIFY or polling).
  let events = 0;
  ctx.bus.subscribe(b.workspaceId, c.id, () => { events++; });
  worker = spawnWorker({ HERALD_DATA_DIR: b.dataDir, HERALD_DATABASE_URL: dbUrl, HERALD_LEASE_MS: '3000' });
  b.herald.engine!.start();
  const started = Date.now();
  await sendCampaign(ctx, b.workspaceId, c.id);

  const restarts: Record<string, unknown>[] = [];
  for (const [fraction, mode] of [[0.25, 'fast'], [0.5, 'immediate'], [0.75, 'fast']] as const) {
    while ((await mock.stats()).received < N * fraction) await sleep(20);
    const before = (await mock.stats()).received;
    const t0 = Date.now();
    restart(mode);
    const downMs = Date.now() - t0;
    const eventsAtRestart = events;
    // Recovery: the first message the provider gets after the server is back.
    let resumedMs: number | null = null;
    let eventsBackMs: number | null = null;
    const back = Date.now();
    while (Date.now() - back < 60_000 && (resumedMs === null || eventsBackMs === null)) {
      if (resumedMs === null && (await mock.stats()).received > before) resumedMs = Date.now() - back;
      if (eventsBackMs === null && events > eventsAtRestart) eventsBackMs = Date.now() - back;
      await sleep(20);
    }
    restarts.push({ at: `${fraction * 100}%`, mode, restartMs: downMs, firstSendAfterMs: resumedMs, firstEventAfterMs: eventsBackMs });
  }
  const done = await waitFinal(b, c.id, 6 * 60_000);
  const seconds = (Date.now() - started) / 1000;
  await kill(worker, 'SIGTERM');
  worker = null;
  const dump = await mock.dump();
  const r = await reconcile(ctx.db, c.id, dump);
  ok = r.lost === 0 && r.receivedTwice === 0 && r.sent === N && r.countersMatch && restarts.every((x) => x.firstSendAfterMs !== null && x.firstEventAfterMs !== null);
  report('db-restart', { database: CLUSTER ? `cluster ${CLUSTER}` : `private PostgreSQL 15 on :${PORT}`, recipients: N, seconds: Number(seconds.toFixed(1)), restarts, status: done.status, ...r, providerReceived: dump.received.length, ok });
  await b.close();
  mock.close();
} finally {
  if (worker) await kill(worker);
  cleanup();
}
await finish(ok ? 0 : 1);
