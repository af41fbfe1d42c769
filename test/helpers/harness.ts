import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { createHerald, type Herald, type HeraldOptions } from '../../src/server.ts';
import { createApiKey, ensureWorkspace, type Role } from '../../src/workspaces/workspaces-store.ts';

export const DIALECTS = ['sqlite', 'postgres'] as const;
export type Dialect = (typeof DIALECTS)[number];

export const PG_URL = process.env.HERALD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';

/** A fresh, isolated database: a new SQLite file, or a new PostgreSQL schema. */
export async function freshDatabase(dialect: Dialect): Promise<{ url: string; dataDir: string; drop(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-test-'));
  if (dialect === 'sqlite') {
    return { url: `sqlite:${path.join(dataDir, 'herald.db')}`, dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  return {
    url: `${PG_URL}?schema=${schema}`,
    dataDir,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestHerald {
  herald: Herald;
  config: Config;
  dbUrl: string;
  /** Calls the API in process with the admin key (or `key`). */
  api<T = any>(method: string, url: string, body?: unknown, key?: string | null, headers?: Record<string, string>): Promise<{ status: number; body: T; text: string; headers: Record<string, unknown> }>;
  /** A key of a new (or existing) workspace with a role. */
  keyFor(workspace: string, role?: Role): Promise<string>;
  close(): Promise<void>;
}

export async function startHerald(dialect: Dialect, opts: HeraldOptions & { env?: Record<string, string> } = {}): Promise<TestHerald> {
  const db = await freshDatabase(dialect);
  const config = loadConfig({ HERALD_DATA_DIR: db.dataDir, HERALD_DATABASE_URL: db.url, HERALD_API_KEY: ADMIN_KEY, PORT: '0', HOST: '127.0.0.1', HERALD_LOG_LEVEL: 'silent', ...opts.env });
  const herald = await createHerald(config, { logger: pino({ level: process.env.HERALD_TEST_LOG ?? 'silent' }), ...opts });
  if (herald.app) await herald.app.ready();
  herald.engine?.start();
  return {
    herald,
    config,
    dbUrl: db.url,
    async api(method, url, body, key = ADMIN_KEY, headers = {}) {
      const res = await herald.app!.inject({
        method: method as 'GET',
        url,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
        payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      let parsed: any = null;
      try {
        parsed = res.body ? JSON.parse(res.body) : null;
      } catch {
        parsed = null;
      }
      return { status: res.statusCode, body: parsed, text: res.body, headers: res.headers };
    },
    async keyFor(workspace, role = 'admin') {
      const ws = await ensureWorkspace(herald.ctx.db, workspace);
      return (await createApiKey(herald.ctx.db, ws.id, { role, name: 'test' })).key;
    },
    async close() {
      await herald.close();
      await db.drop();
    },
  };
}

/** Polls until `fn` returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Creates a simulator channel and returns its id. */
export async function simulatorChannel(t: TestHerald, settings: Record<string, unknown> = {}, rate = 1000, key?: string): Promise<string> {
  const res = await t.api('POST', '/api/v1/channels', { name: 'sim', provider: 'simulator', credentials: { token: 'x' }, rateLimitPerSecond: rate, settings }, key);
  if (res.status !== 201) throw new Error(`channel create failed: ${res.status} ${res.text}`);
  return res.body.id;
}

/** Adds contacts with the given provider user IDs (and tags) to a channel. */
export async function addContacts(t: TestHerald, channelId: string, users: { id: string; name?: string; tags?: string[]; attributes?: Record<string, unknown> }[], key?: string): Promise<string[]> {
  const res = await t.api('POST', '/api/v1/contacts', {
    contacts: users.map((u) => ({ name: u.name ?? u.id, tags: u.tags ?? [], attributes: u.attributes ?? {}, identities: [{ channelId, providerUserId: u.id }] })),
  }, key);
  if (res.status !== 200) throw new Error(`contacts failed: ${res.status} ${res.text}`);
  return res.body.items.map((i: { id: string }) => i.id);
}
