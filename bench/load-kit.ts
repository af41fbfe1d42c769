/**
 * Helpers shared by the load and fault benchmarks (live-clients, api-latency, torture, faults,
 * db-restart, scale-out): a time bound with
 * cleanup, percentiles, a fresh PostgreSQL schema per Herald, event-loop delay and CPU sampling.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';

const cleanups: (() => void | Promise<void>)[] = [];

/** Runs `fn` (synchronous or not) when the script ends for any reason: time bound, signal, error. */
export function onCleanup(fn: () => void | Promise<void>): void {
  cleanups.push(fn);
}

async function runCleanups(): Promise<void> {
  while (cleanups.length) {
    try {
      await cleanups.pop()!();
    } catch {
      // best effort
    }
  }
}

/** Exits non-zero after `ms` (cleaning up first); also cleans up on SIGINT/SIGTERM. */
export function timeBound(name: string, ms: number): void {
  const t = setTimeout(() => {
    process.stderr.write(`${name}: time bound of ${Math.round(ms / 1000)} s reached; giving up\n`);
    void runCleanups().finally(() => process.exit(3));
  }, ms);
  t.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void runCleanups().finally(() => process.exit(130)));
  // A failed step (also a rejected top-level await) still removes temp dirs, schemas and children.
  process.once('uncaughtException', (err) => {
    process.stderr.write(`${name} failed: ${err.stack ?? err.message}\n`);
    void runCleanups().finally(() => process.exit(1));
  });
}

/** Cleans up, then exits with `code`. */
export async function finish(code: number): Promise<never> {
  await runCleanups();
  process.exit(code);
}

/** Nearest-rank percentiles of `values` (not sorted in place). */
export function percentiles(values: number[], ps: number[]): Record<string, number | null> {
  const s = Float64Array.from(values).sort();
  const out: Record<string, number | null> = {};
  for (const p of ps) {
    const key = p === 100 ? 'max' : `p${String(p).replace('.', '_')}`;
    out[key] = s.length === 0 ? null : s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  }
  return out;
}

/**
 * A database URL for one Herald: undefined (SQLite in a temp dir, made by startBenchHerald) or,
 * when `base` is a PostgreSQL URL, a new schema `<base schema or bench>_<tag>_<random>` dropped
 * at cleanup.
 */
export async function freshDbUrl(base: string | undefined, tag: string): Promise<string | undefined> {
  if (!base) return undefined;
  const u = new URL(base);
  const schema = `${u.searchParams.get('schema') ?? 'bench'}_${tag}_${randomBytes(3).toString('hex')}`;
  u.searchParams.delete('schema');
  const admin = u.toString();
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`create schema ${schema}`);
  await c.end();
  onCleanup(async () => {
    const d = new pg.Client({ connectionString: admin });
    await d.connect();
    await d.query(`drop schema if exists ${schema} cascade`);
    await d.end();
  });
  u.searchParams.set('schema', schema);
  return u.toString();
}

/**
 * Event-loop delay of this process, in ms: perf_hooks samples with a 5 ms timer and records the
 * time between samples, so the 5 ms are taken off (what is left is how late the loop was).
 */
export function eventLoopDelay(): { stop(): { p50: number; p99: number; max: number; mean: number } } {
  const RESOLUTION_MS = 5;
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  return {
    stop() {
      h.disable();
      const ms = (ns: number) => Math.max(0, Math.round(ns / 1e5 - RESOLUTION_MS * 10) / 10);
      return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) };
    },
  };
}

/** This process's CPU use (user + system) as % of one core over the measured span. */
export function cpuMeter(): { stop(): number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    stop() {
      const c = process.cpuUsage(c0);
      return Math.round(((c.user + c.system) / 1000 / (performance.now() - t0)) * 100);
    },
  };
}

/** `uptime`'s load averages (1, 5, 15 min) — the machine is shared, so every result records it. */
export function machineLoad(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim().replace(/.*load average:\s*/, '');
  } catch {
    return 'unknown';
  }
}
