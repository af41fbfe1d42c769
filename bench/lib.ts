import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { sql } from 'kysely';
import { loadConfig } from '../src/config/config.ts';
import { createHerald, type Herald, type HeraldOptions } from '../src/server.ts';
import { DEFAULT_WORKSPACE, ensureWorkspace } from '../src/workspaces/workspaces-store.ts';
import { insertChannel } from '../src/channels/channels-store.ts';
import type { ProviderName } from '../src/providers/types.ts';

export interface MockDump {
  received: { recipient: string; at: number; retryKey?: string }[];
  requests: number;
  /** 429-style answers: for going over the mock's rateLimitPerSecond (pacing bug) and injected bursts. */
  rateLimited: { overLimit: number; burst: number };
}

export interface MockHandle {
  url: string;
  credentials: Record<string, string>;
  stats(withTimes?: boolean): Promise<{ received: number; unique: number; requests: number; first: number | null; last: number | null; times?: number[] }>;
  dump(): Promise<MockDump>;
  configure(options: Record<string, unknown>): Promise<void>;
  reset(): Promise<void>;
  close(): void;
}

/** `count` mock provider servers in one child process (one per channel in multi-channel runs). */
export function startMocks(provider: string, options: Record<string, unknown> = {}, count = 1): Promise<MockHandle[]> {
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'mock-process.ts'), [provider, JSON.stringify(options), String(count)], { execArgv: ['--import', 'tsx'] });
  // One question at a time: answers come back in order on the one IPC channel.
  let queue: Promise<unknown> = Promise.resolve();
  const ask = <T>(msg: object): Promise<T> => {
    const next = queue.then(() => new Promise<T>((resolve) => { child.once('message', (m) => resolve(m as T)); child.send(msg as never); }));
    queue = next.catch(() => undefined);
    return next;
  };
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (m: any) => resolve((m.urls as string[]).map((url, index) => ({
      url, credentials: m.credentials,
      stats: (withTimes = false) => ask({ cmd: 'stats', index, options: { withTimes } }),
      dump: () => ask<MockDump>({ cmd: 'dump', index }),
      configure: (o: Record<string, unknown>) => ask({ cmd: 'configure', index, options: o }).then(() => undefined),
      reset: () => ask({ cmd: 'reset', index }).then(() => undefined),
      close: () => { if (child.connected) child.disconnect(); },
    }))));
  });
}

/** A mock provider in a child process. */
export async function startMock(provider: string, options: Record<string, unknown> = {}): Promise<MockHandle> {
  return (await startMocks(provider, options, 1))[0];
}

export interface BenchHerald {
  herald: Herald;
  workspaceId: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startBenchHerald(opts: HeraldOptions = {}, dbUrl?: string): Promise<BenchHerald> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-bench-'));
  const config = loadConfig({ HERALD_DATA_DIR: dataDir, HERALD_API_KEY: 'bench-key-0123456789abcdef', HERALD_LOG_LEVEL: 'silent', PORT: '0', ...(dbUrl ? { HERALD_DATABASE_URL: dbUrl } : {}) });
  const herald = await createHerald(config, { logger: pino({ level: process.env.BENCH_LOG ?? 'silent' }), ...opts });
  const ws = await ensureWorkspace(herald.ctx.db, DEFAULT_WORKSPACE);
  return { herald, workspaceId: ws.id, dataDir, close: async () => { await herald.close(); rmSync(dataDir, { recursive: true, force: true }); } };
}

export async function createChannel(b: BenchHerald, provider: ProviderName, credentials: Record<string, unknown>, rate: number, settings: Record<string, unknown>): Promise<string> {
  const ch = await insertChannel(b.herald.ctx.db, b.herald.ctx.config.secretKey, b.workspaceId, { name: provider, provider, credentials, rateLimitPerSecond: rate, settings });
  return ch.id;
}

/**
 * Seeds n contacts with one identity each on the channel straight in SQL (a recursive CTE on
 * SQLite, generate_series on PostgreSQL): the benchmarks measure the engine, not the importer.
 */
export async function seedMembers(b: BenchHerald, channelId: string, n: number, prefix = 'u'): Promise<void> {
  const db = b.herald.ctx.db;
  const ws = b.workspaceId;
  const now = Date.now();
  const chunk = 200_000;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const series = db.flags.dialect === 'sqlite'
      ? sql`with recursive s(i) as (select ${start} union all select i + 1 from s where i + 1 < ${end})`
      : sql`with s(i) as (select generate_series(${start}::int, ${end - 1}::int))`;
    // Ids sort by i (zero-padded), like uuidv7 ids sort by creation.
    await sql`${series} insert into contacts (id, workspace_id, name, attributes, created_at, updated_at)
      select ${`c-${channelId.slice(-6)}-`} || substr('000000000' || i, -9), ${ws}, 'Member ' || i, '{"city":"Tokyo"}', ${now}, ${now} from s`.execute(db.k);
    await sql`${series} insert into identities (id, workspace_id, contact_id, channel_id, provider_user_id, opted_out, opted_out_at, created_at)
      select ${`i-${channelId.slice(-6)}-`} || substr('000000000' || i, -9), ${ws}, ${`c-${channelId.slice(-6)}-`} || substr('000000000' || i, -9), ${channelId}, ${prefix} || (1000000000 + i), 0, null, ${now} from s`.execute(db.k);
  }
}

export async function waitFinal(b: BenchHerald, campaignId: string, timeoutMs: number): Promise<{ status: string; sent: number; failed: number; total: number; startedAt: number; completedAt: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await b.herald.ctx.db.k.selectFrom('campaigns').selectAll().where('id', '=', campaignId).executeTakeFirstOrThrow();
    if (['sent', 'failed', 'partial', 'cancelled'].includes(c.status)) {
      return { status: c.status, sent: c.sent, failed: c.failed, total: c.total, startedAt: c.started_at!, completedAt: c.completed_at! };
    }
    if (Date.now() > deadline) throw new Error(`campaign not finished in ${timeoutMs} ms (status ${c.status}, ${c.sent + c.failed}/${c.total})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Samples this process's RSS every 50 ms; returns the peak in MB. */
export function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
  return { stop: () => { clearInterval(t); return Math.round(Math.max(peak, process.memoryUsage().rss) / 1048576); } };
}

export function report(name: string, data: Record<string, unknown>): void {
  process.stdout.write(`RESULT ${JSON.stringify({ name, ...data })}\n`);
}
