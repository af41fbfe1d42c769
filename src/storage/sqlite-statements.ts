import type SQLite from 'better-sqlite3';
import type { Db } from './db.ts';

/**
 * Cached prepared statements for the engine's hot path on SQLite. Kysely compiles and SQLite
 * prepares every query anew; at thousands of recipients per second that was ~10% of the CPU.
 * Statements run under Kysely's connection lock, so they never interleave with a Kysely
 * transaction on the same connection.
 */
const cache = new WeakMap<SQLite.Database, Map<string, SQLite.Statement>>();

export function statement(raw: SQLite.Database, text: string): SQLite.Statement {
  let map = cache.get(raw);
  if (!map) cache.set(raw, (map = new Map()));
  let st = map.get(text);
  if (!st) map.set(text, (st = raw.prepare(text)));
  return st;
}

/** Runs `fn` with the raw SQLite handle under Kysely's connection lock (SQLite only). */
export function withSqlite<T>(db: Db, fn: (raw: SQLite.Database) => T): Promise<T> {
  const raw = db.sqlite;
  if (!raw) throw new Error('withSqlite needs a SQLite database');
  return db.k.connection().execute(async () => fn(raw));
}
