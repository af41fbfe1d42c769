import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, SqliteDriver, sql, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Schema } from './schema.ts';

export type DialectName = 'sqlite' | 'postgres';

/**
 * The backend differences, written down as data (pg-boss style) instead of `if`s across the
 * code base. Queries consult these flags in the few places where the SQL must differ.
 */
export interface DialectFlags {
  readonly dialect: DialectName;
  /** `FOR UPDATE SKIP LOCKED` for claims; SQLite has a single writer and needs none. */
  readonly skipLocked: boolean;
  /** Cross-process events over LISTEN/NOTIFY. */
  readonly listenNotify: boolean;
  /** Name of the two-argument maximum function. */
  readonly greatest: 'MAX' | 'GREATEST';
  /** Case-insensitive LIKE operator. */
  readonly ilike: 'like' | 'ilike';
}

export interface Db {
  readonly k: Kysely<Schema>;
  readonly flags: DialectFlags;
  /** For PostgreSQL: the pool config, so the event bus can open its own LISTEN connection. */
  readonly pgConfig?: pg.PoolConfig;
  /**
   * The raw SQLite handle, for the engine's hot path only (outcome-writer.ts: cached prepared
   * statements); always used under Kysely's connection lock.
   */
  readonly sqlite?: SQLite.Database;
  /** The PostgreSQL schema named in the URL (`?schema=`), if any. */
  readonly schema?: string;
  close(): Promise<void>;
}

const int8 = 20;

/** Splits `postgres://…?schema=name` into a pg config with that search_path. */
export function postgresConfig(url: string, poolSize = 10): pg.PoolConfig {
  const u = new URL(url);
  const schema = u.searchParams.get('schema');
  u.searchParams.delete('schema');
  const config: pg.PoolConfig = { connectionString: u.toString(), max: poolSize, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000 };
  if (schema) {
    if (!/^[a-z_][a-z0-9_]*$/i.test(schema)) throw new Error(`invalid schema name ${schema}`);
    config.options = `-c search_path=${schema}`;
  }
  return config;
}

/**
 * SQLite transactions begin IMMEDIATE (take the write lock at BEGIN, waiting up to busy_timeout).
 * A deferred transaction that reads and then writes fails at once with "database is locked"
 * (SQLITE_BUSY_SNAPSHOT, no busy wait) when another process — `herald api` beside
 * `herald worker` — committed in between: found by bench:api in split mode, where sending a
 * campaign answered 500 while the worker wrote outcomes.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly sqliteConfig: SqliteDialectConfig) {
    super(sqliteConfig);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.sqliteConfig);
  }
}

export function openDb(databaseUrl: string, options: { poolSize?: number } = {}): Db {
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const database = new SQLite(file);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('busy_timeout = 10000');
    database.pragma('foreign_keys = ON');
    const k = new Kysely<Schema>({ dialect: new ImmediateSqliteDialect({ database }) });
    return {
      k,
      sqlite: database,
      flags: Object.freeze({ dialect: 'sqlite', skipLocked: false, listenNotify: false, greatest: 'MAX', ilike: 'like' }),
      close: () => k.destroy(),
    };
  }
  const pgConfig = postgresConfig(databaseUrl, options.poolSize);
  const pool = new pg.Pool({
    ...pgConfig,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === int8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // A dropped connection (server restart, network) must not crash the process. The pool's own
  // 'error' covers idle clients; a client checked out when its socket dies emits 'error' on
  // itself (as well as failing its query), so every client gets a listener when it connects.
  // The failed query rejects and the caller retries; the pool discards the broken client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const k = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  const schema = new URL(databaseUrl).searchParams.get('schema') ?? undefined;
  return {
    k,
    pgConfig,
    schema,
    flags: Object.freeze({ dialect: 'postgres', skipLocked: true, listenNotify: true, greatest: 'GREATEST', ilike: 'ilike' }),
    close: () => k.destroy(),
  };
}

/** `sql` fragment of the dialect's two-argument maximum. */
export function greatest(db: Db, a: ReturnType<typeof sql>, b: ReturnType<typeof sql>) {
  return db.flags.greatest === 'MAX' ? sql`MAX(${a}, ${b})` : sql`GREATEST(${a}, ${b})`;
}

const errorCode = (err: unknown) => (typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined);

/** A unique or primary key constraint refused the write (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY). */
export function isUniqueViolation(err: unknown): boolean {
  const code = errorCode(err);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A foreign key named a row that is gone (PostgreSQL 23503, SQLite SQLITE_CONSTRAINT_FOREIGNKEY). */
export function isForeignKeyViolation(err: unknown): boolean {
  const code = errorCode(err);
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}
