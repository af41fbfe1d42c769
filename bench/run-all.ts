/**
 * `npm run bench`: runs the engine benchmarks in their own processes, one after the other, and
 * prints their RESULT lines (JSON). Each script bounds itself in time. BENCH_ONLY=a,b picks some,
 * including the issue-6 proofs that `npm run bench` leaves out by default (they take 1–10 minutes
 * each): torture, provider-faults, db-restart, scale-out, peer, live-clients, api-latency, fuzz.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';

const all = ['engine-throughput', 'pacing', 'schedule-delay', 'million'];
const proofs = ['torture', 'provider-faults', 'db-restart', 'scale-out', 'peer', 'live-clients', 'api-latency', 'fuzz'];
const only = process.env.BENCH_ONLY?.split(',') ?? all;
process.stdout.write(`# ${new Date().toISOString()} · node ${process.version} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'} · ${Math.round(os.totalmem() / 2 ** 30)} GiB\n`);
let failed = 0;
for (const name of [...all, ...proofs].filter((n) => only.includes(n))) {
  const started = Date.now();
  const res = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, `${name}.ts`)], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 25 * 60_000 });
  for (const line of (res.stdout ?? '').split('\n')) if (line.startsWith('RESULT ')) process.stdout.write(`${line.slice(7)}\n`);
  if (res.status !== 0) {
    failed++;
    process.stdout.write(`# ${name} failed (exit ${res.status ?? res.signal})\n`);
  }
  process.stdout.write(`# ${name}: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}
process.exit(failed ? 1 : 0);
