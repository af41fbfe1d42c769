/**
 * The Herald under test in bench:fuzz: a real `herald start` child process on 127.0.0.1 (its
 * error-level log lines collected), its database (SQLite in the data dir, or a PostgreSQL
 * schema), `herald keys create` for more workspaces, and a small keep-alive API client.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { httpRequest, type HttpAnswer } from './fuzz-kit.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

// ---------------------------------------------------------------- Herald as a child process

export interface HeraldProcess {
  child: ChildProcess;
  port: number;
  env: Record<string, string>;
  errorLogs: { msg: string; err?: string }[];
  exited: { code: number | null; signal: string | null } | null;
  stop(): Promise<void>;
}

export async function prepareDatabase(): Promise<{ url: string; cleanup(): Promise<void> }> {
  const given = process.env.BENCH_DB_URL;
  if (!given) return { url: '', cleanup: async () => undefined };
  const u = new URL(given);
  let schema = u.searchParams.get('schema');
  const temporary = !schema;
  if (!schema) {
    schema = `fuzz_${randomBytes(5).toString('hex')}`;
    u.searchParams.set('schema', schema);
  }
  if (!/^[a-z_][a-z0-9_]*$/i.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const base = new URL(u);
  base.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: base.toString() });
  await client.connect();
  await client.query(`create schema if not exists ${schema}`);
  await client.end();
  return {
    url: u.toString(),
    cleanup: async () => {
      if (!temporary) return;
      const c = new pg.Client({ connectionString: base.toString() });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

export async function startHerald(dataDir: string, dbUrl: string, adminKey: string, publicUrl: string): Promise<HeraldProcess> {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    HERALD_DATA_DIR: dataDir, HERALD_API_KEY: adminKey, HERALD_LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', HERALD_PUBLIC_URL: publicUrl,
    ...(dbUrl ? { HERALD_DATABASE_URL: dbUrl } : { HERALD_DATABASE_URL: `sqlite:${path.join(dataDir, 'herald.db')}` }),
  };
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/herald.js'), 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const h: HeraldProcess = {
    child, port: 0, env, errorLogs: [], exited: null,
    stop: async () => {
      if (h.exited) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await new Promise((r) => child.once('exit', r));
      clearTimeout(killer);
    },
  };
  child.on('exit', (code, signal) => { h.exited = { code, signal }; });
  child.stderr!.on('data', (c: Buffer) => process.stderr.write(`[herald stderr] ${c.toString()}`));
  const lines = readline.createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Herald did not start in 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`Herald exited at start (code ${code})`)));
    lines.on('line', (line) => {
      let rec: { level?: number; msg?: string; err?: { message?: string; stack?: string; code?: string }; method?: string; url?: string };
      try {
        rec = JSON.parse(line);
      } catch {
        return;
      }
      if ((rec.level ?? 0) >= 50) {
        const err = [rec.method, rec.url?.slice(0, 200), rec.err?.code, rec.err?.message, rec.err?.stack?.split('\n').slice(1, 4).join(' <')].filter(Boolean).join(' ');
        h.errorLogs.push({ msg: rec.msg ?? '', err });
        process.stderr.write(`[herald error log] ${rec.msg}: ${err}\n`);
      }
      const m = /API on (http:\/\/[^\s,]+)/.exec(rec.msg ?? '');
      if (m && !h.port) {
        h.port = Number(new URL(m[1]).port);
        clearTimeout(timer);
        resolve(h);
      }
    });
  });
}

/** `herald keys create`, the real command line, against the same database. */
export function cliKey(h: HeraldProcess, workspace: string, role = 'admin'): string {
  const res = spawnSync(process.execPath, [path.join(ROOT, 'bin/herald.js'), 'keys', 'create', '--workspace', workspace, '--role', role, '--name', 'fuzz'], {
    env: { ...h.env, HERALD_LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 60_000,
  });
  const key = res.stdout.trim();
  if (res.status !== 0 || !key) throw new Error(`herald keys create failed (${res.status}): ${res.stderr}`);
  return key;
}

// ---------------------------------------------------------------- a small API client

export interface Api {
  port: number;
  agent: http.Agent;
  call(method: string, p: string, body?: unknown, auth?: Auth, extraHeaders?: Record<string, string>): Promise<ApiAnswer>;
  /** A body that is not JSON (CSV), sent as these bytes with this content type. */
  callRaw(method: string, p: string, body: Buffer, auth: Auth, contentType: string): Promise<ApiAnswer>;
}

export interface ApiAnswer {
  status: number;
  json: any;
  text: string;
  headers: HttpAnswer['headers'];
}

export type Auth = { key: string } | { cookie: string; csrf?: boolean } | null;

export function authHeaders(auth: Auth): Record<string, string> {
  if (!auth) return {};
  if ('key' in auth) return { authorization: `Bearer ${auth.key}` };
  return { cookie: `herald_session=${auth.cookie}`, ...(auth.csrf === false ? {} : { 'x-herald-csrf': '1' }) };
}

export function makeApi(port: number, o: { maxSockets: number; timeoutMs: number }): Api {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.maxSockets });
  const send = async (method: string, p: string, payload: Buffer | undefined, headers: Record<string, string>): Promise<ApiAnswer> => {
    const res = await httpRequest(agent, port, { method, path: p, timeoutMs: o.timeoutMs, body: payload, headers });
    if (res.status === null) throw new Error(`${method} ${p}: no answer (${res.error}: ${res.errorMessage})`);
    const text = res.body.toString('utf8');
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  return {
    port, agent,
    call: (method, p, body, auth = null, extra = {}) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      return send(method, p, payload, { ...authHeaders(auth), ...(payload ? { 'content-type': 'application/json' } : {}), ...extra });
    },
    callRaw: (method, p, body, auth, contentType) => send(method, p, body, { ...authHeaders(auth), 'content-type': contentType }),
  };
}
