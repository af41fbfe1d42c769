import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** Everything Herald reads from its environment, validated once and frozen. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly apiKey: string | null;
  /** 32-byte key for AES-256-GCM encryption of channel credentials. */
  readonly secretKey: Buffer;
  readonly logLevel: string;
  /** Public base URL used to show webhook URLs (defaults to http://localhost:PORT). */
  readonly publicUrl: string;
  /** Delivery engine tuning (HERALD_WORKER_CONCURRENCY, HERALD_LEASE_MS). */
  readonly engine: { readonly concurrency: number; readonly leaseMs: number };
}

function parseIntEnv(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

export class ConfigError extends Error {}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 3000;
  const n = /^\d{1,5}$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`PORT must be an integer from 0 to 65535, got "${raw}"`);
  return n;
}

function parseSecretKey(raw: string): Buffer {
  const trimmed = raw.trim();
  const hex = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : null;
  const b64 = hex ? null : Buffer.from(trimmed, 'base64');
  const key = hex ?? b64;
  if (!key || key.length !== 32) {
    throw new ConfigError('HERALD_SECRET_KEY must be 32 bytes, written as 64 hex characters or base64 (e.g. `openssl rand -hex 32`)');
  }
  return key;
}

/**
 * Reads the configuration. Creates the data directory and, when HERALD_SECRET_KEY is absent,
 * a generated secret key file in it (kept for later starts, mode 0600).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = parsePort(env.PORT);
  const host = env.HOST && env.HOST.trim() !== '' ? env.HOST.trim() : '0.0.0.0';
  const dataDir = path.resolve(env.HERALD_DATA_DIR && env.HERALD_DATA_DIR !== '' ? env.HERALD_DATA_DIR : './data');
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw new ConfigError(`HERALD_DATA_DIR ${dataDir} cannot be created: ${(err as Error).message}`);
  }
  const databaseUrl = env.HERALD_DATABASE_URL && env.HERALD_DATABASE_URL !== '' ? env.HERALD_DATABASE_URL : `sqlite:${path.join(dataDir, 'herald.db')}`;
  if (!/^sqlite:/.test(databaseUrl) && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`HERALD_DATABASE_URL must start with sqlite: or postgres://, got "${databaseUrl.replace(/\/\/[^@]*@/, '//***@')}"`);
  }
  const apiKey = env.HERALD_API_KEY && env.HERALD_API_KEY !== '' ? env.HERALD_API_KEY : null;
  if (apiKey !== null && apiKey.length < 16) throw new ConfigError('HERALD_API_KEY must be at least 16 characters');

  let secretKey: Buffer;
  if (env.HERALD_SECRET_KEY && env.HERALD_SECRET_KEY !== '') {
    secretKey = parseSecretKey(env.HERALD_SECRET_KEY);
  } else {
    const file = path.join(dataDir, 'secret-key');
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    secretKey = parseSecretKey(readFileSync(file, 'utf8'));
  }
  const logLevel = env.HERALD_LOG_LEVEL || env.LOG_LEVEL || 'info';
  const publicUrl = (env.HERALD_PUBLIC_URL || `http://localhost:${port}`).replace(/\/$/, '');
  const engine = Object.freeze({
    concurrency: parseIntEnv('HERALD_WORKER_CONCURRENCY', env.HERALD_WORKER_CONCURRENCY, 32, 1, 1000),
    leaseMs: parseIntEnv('HERALD_LEASE_MS', env.HERALD_LEASE_MS, 30_000, 1000, 3_600_000),
  });
  return Object.freeze({ port, host, dataDir, databaseUrl, apiKey, secretKey, logLevel, publicUrl, engine });
}
