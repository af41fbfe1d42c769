import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { createHerald, type Herald } from '../../src/server.ts';
import { DIALECTS, freshDatabase } from '../helpers/harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/herald.js');

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'herald-config-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs loadConfig and returns the ConfigError it throws (fails the test when it does not throw). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ HERALD_DATA_DIR: tmp(), ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  const cwd = process.cwd();
  afterEach(() => process.chdir(cwd));

  it('defaults: port 3000, host 0.0.0.0, ./data resolved, SQLite in the data dir', () => {
    const dir = tmp();
    process.chdir(dir);
    const c = loadConfig({});
    const dataDir = path.resolve(dir, 'data');
    expect(c.port).toBe(3000);
    expect(c.host).toBe('0.0.0.0');
    expect(path.isAbsolute(c.dataDir)).toBe(true);
    expect(c.dataDir).toBe(path.resolve(process.cwd(), 'data'));
    expect(c.dataDir).toBe(dataDir);
    expect(existsSync(dataDir)).toBe(true);
    expect(c.databaseUrl).toBe(`sqlite:${path.join(dataDir, 'herald.db')}`);
    expect(c.apiKey).toBeNull();
    expect(c.secretKey.length).toBe(32);
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(c.engine).toEqual({ concurrency: 32, leaseMs: 30_000 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('empty variables count as unset', () => {
    const dir = tmp();
    process.chdir(dir);
    const c = loadConfig({ PORT: '', HOST: '  ', HERALD_DATA_DIR: '', HERALD_DATABASE_URL: '', HERALD_API_KEY: '', HERALD_SECRET_KEY: '' });
    expect(c.port).toBe(3000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.dataDir).toBe(path.resolve(dir, 'data'));
    expect(c.apiKey).toBeNull();
  });

  it('reads every variable', () => {
    const dir = tmp();
    const hex = randomBytes(32).toString('hex');
    const c = loadConfig({
      PORT: '8081', HOST: '127.0.0.1', HERALD_DATA_DIR: path.join(dir, 'nested', 'dd'), HERALD_DATABASE_URL: 'postgres://u@db.example:5432/herald',
      HERALD_API_KEY: 'a-long-enough-api-key', HERALD_SECRET_KEY: hex, HERALD_PUBLIC_URL: 'https://herald.example.com/', HERALD_WORKER_CONCURRENCY: '8', HERALD_LEASE_MS: '5000',
    });
    expect(c).toMatchObject({ port: 8081, host: '127.0.0.1', dataDir: path.join(dir, 'nested', 'dd'), databaseUrl: 'postgres://u@db.example:5432/herald', apiKey: 'a-long-enough-api-key', publicUrl: 'https://herald.example.com' });
    expect(c.engine).toEqual({ concurrency: 8, leaseMs: 5000 });
    expect(c.secretKey.equals(Buffer.from(hex, 'hex'))).toBe(true);
    expect(existsSync(path.join(dir, 'nested', 'dd'))).toBe(true);
    // An explicit key writes no key file.
    expect(existsSync(path.join(dir, 'nested', 'dd', 'secret-key'))).toBe(false);
    expect(loadConfig({ HERALD_DATA_DIR: dir, HERALD_DATABASE_URL: 'postgresql://x@y/z' }).databaseUrl).toBe('postgresql://x@y/z');
  });

  it('accepts a base64 secret key of 32 bytes', () => {
    const key = randomBytes(32);
    expect(loadConfig({ HERALD_DATA_DIR: tmp(), HERALD_SECRET_KEY: key.toString('base64') }).secretKey.equals(key)).toBe(true);
  });

  it('generates the secret key into the data dir once and keeps it', () => {
    const dir = tmp();
    const first = loadConfig({ HERALD_DATA_DIR: dir });
    const file = path.join(dir, 'secret-key');
    expect(existsSync(file)).toBe(true);
    const text = readFileSync(file, 'utf8').trim();
    expect(text).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(text, 'hex').equals(first.secretKey)).toBe(true);
    expect(statSync(file).mode & 0o077).toBe(0);
    const second = loadConfig({ HERALD_DATA_DIR: dir });
    expect(second.secretKey.equals(first.secretKey)).toBe(true);
    // Another data dir gets another key.
    expect(loadConfig({ HERALD_DATA_DIR: tmp() }).secretKey.equals(first.secretKey)).toBe(false);
  });

  it.each(['abc', '70000', '-1', '3.5', '65536', 'true'])('PORT=%s is a ConfigError naming PORT', (port) => {
    const err = configError({ PORT: port });
    expect(err.message).toContain('PORT');
    expect(err.message).toContain(port);
  });

  it.each(['mysql://root:hunter2@db/x', 'sqlite', 'postgres:/nohost', 'herald.db', 'http://db'])('HERALD_DATABASE_URL=%s is a ConfigError', (url) => {
    const err = configError({ HERALD_DATABASE_URL: url });
    expect(err.message).toContain('HERALD_DATABASE_URL');
    expect(err.message).toMatch(/sqlite:|postgres/);
  });

  it('does not print a database password in the error', () => {
    const err = configError({ HERALD_DATABASE_URL: 'mysql://root:hunter2@db/x' });
    expect(err.message).not.toContain('hunter2');
  });

  it.each([
    ['too short', 'abc'],
    ['63 hex characters', 'a'.repeat(63)],
    ['64 non-hex characters', 'z'.repeat(64)],
    ['16 bytes of base64', randomBytes(16).toString('base64')],
  ])('HERALD_SECRET_KEY %s is a ConfigError', (_label, key) => {
    const err = configError({ HERALD_SECRET_KEY: key });
    expect(err.message).toContain('HERALD_SECRET_KEY');
    expect(err.message).toContain('32 bytes');
  });

  it('a short HERALD_API_KEY is a ConfigError; 16 characters are enough', () => {
    const err = configError({ HERALD_API_KEY: 'short-key' });
    expect(err.message).toContain('HERALD_API_KEY');
    expect(err.message).toContain('16');
    expect(loadConfig({ HERALD_DATA_DIR: tmp(), HERALD_API_KEY: 'x'.repeat(16) }).apiKey).toBe('x'.repeat(16));
  });

  it('engine tuning variables are range-checked', () => {
    expect(configError({ HERALD_WORKER_CONCURRENCY: '0' }).message).toContain('HERALD_WORKER_CONCURRENCY');
    expect(configError({ HERALD_WORKER_CONCURRENCY: 'lots' }).message).toContain('HERALD_WORKER_CONCURRENCY');
    expect(configError({ HERALD_LEASE_MS: '10' }).message).toContain('HERALD_LEASE_MS');
  });

  it('a data dir that cannot be created is a ConfigError', () => {
    const file = path.join(tmp(), 'a-file');
    writeFileSync(file, 'x');
    expect(() => loadConfig({ HERALD_DATA_DIR: path.join(file, 'sub') })).toThrow(ConfigError);
    expect(() => loadConfig({ HERALD_DATA_DIR: path.join(file, 'sub') })).toThrow(/HERALD_DATA_DIR/);
  });
});

/** The environment of a CLI run: ours without any Herald variable, plus `env`. */
function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_') && k !== 'PORT' && k !== 'HOST'));
  return { ...base, HERALD_LOG_LEVEL: 'silent', ...env };
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: cliEnv(env), timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('CLI configuration errors', () => {
  it('start with PORT=abc exits 2 with one line naming PORT', async () => {
    const res = await cli(['start'], { HERALD_DATA_DIR: tmp(), PORT: 'abc' });
    expect(res.code).toBe(2);
    const lines = res.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('PORT');
    expect(lines[0]).toContain('abc');
    expect(res.stdout).toBe('');
  }, 60_000);

  it('start with a bad HERALD_DATABASE_URL exits 2 with one line', async () => {
    const res = await cli(['start'], { HERALD_DATA_DIR: tmp(), HERALD_DATABASE_URL: 'mysql://root:hunter2@db/x' });
    expect(res.code).toBe(2);
    const lines = res.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('HERALD_DATABASE_URL');
    expect(res.stderr).not.toContain('hunter2');
  }, 60_000);
});

describe.each(DIALECTS)('CLI on %s', (dialect) => {
  let dataDir: string;
  let env: Record<string, string>;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await freshDatabase(dialect);
    dataDir = db.dataDir;
    drop = db.drop;
    env = { HERALD_DATA_DIR: dataDir, HERALD_DATABASE_URL: db.url };
  });
  afterAll(async () => {
    await drop();
  });

  it('migrate applies the migrations, then finds the database up to date', async () => {
    const first = await cli(['migrate'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied: /);
    const second = await cli(['migrate'], env);
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe('database is up to date');
  }, 60_000);

  it('keys create prints one key that authenticates for its workspace and role', async () => {
    const admin = await cli(['keys', 'create', '--workspace', 'acme'], env);
    expect(admin.code).toBe(0);
    expect(admin.stderr).toBe('');
    const lines = admin.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0].startsWith('hrld_')).toBe(true);
    const key = lines[0];

    const viewer = await cli(['keys', 'create', '--workspace', 'acme', '--role', 'viewer'], env);
    expect(viewer.code).toBe(0);
    const viewerKey = viewer.stdout.trim();
    expect(viewerKey.startsWith('hrld_')).toBe(true);
    expect(viewerKey).not.toBe(key);

    let herald: Herald | null = null;
    try {
      herald = await createHerald(loadConfig({ ...env, HERALD_LOG_LEVEL: 'silent' }), { worker: false, logger: pino({ level: 'silent' }) });
      const app = herald.app!;
      const call = (method: 'GET' | 'POST', url: string, k: string, payload?: unknown) => app.inject({ method, url, headers: { authorization: `Bearer ${k}` }, ...(payload ? { payload: payload as Record<string, unknown> } : {}) });
      expect((await call('GET', '/api/v1/channels', key)).statusCode).toBe(200);
      expect((await call('GET', '/api/v1/channels', 'hrld_not-a-real-key')).statusCode).toBe(401);
      const created = await call('POST', '/api/v1/channels', key, { name: 'acme sim', provider: 'simulator' });
      expect(created.statusCode).toBe(201);
      // Both keys are of the same workspace "acme"; the viewer key reads but cannot write.
      const seen = await call('GET', '/api/v1/channels', viewerKey);
      expect(seen.statusCode).toBe(200);
      expect(JSON.parse(seen.body).items.map((c: { name: string }) => c.name)).toEqual(['acme sim']);
      expect((await call('POST', '/api/v1/channels', viewerKey, { name: 'x', provider: 'simulator' })).statusCode).toBe(403);
      // Only the hash is stored.
      const rows = await herald.ctx.db.k.selectFrom('api_keys').select(['key_hash']).execute();
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const r of rows) expect(r.key_hash).not.toContain(key);
    } finally {
      await herald?.close();
    }
  }, 60_000);

  it('keys create refuses a bad workspace name or role', async () => {
    const bad = await cli(['keys', 'create', '--workspace', 'no/slashes'], env);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('--workspace');
    const role = await cli(['keys', 'create', '--workspace', 'acme', '--role', 'root'], env);
    expect(role.code).not.toBe(0);
    expect(role.stdout).toBe('');
  }, 60_000);
});
