import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { openDb } from '../../src/storage/db.ts';
import { PG_URL } from '../helpers/harness.ts';

/**
 * A PostgreSQL connection that dies while checked out of the pool (server restart, failover,
 * pg_terminate_backend) fails its query; it must not crash the process with an unhandled
 * 'error' event, and the pool must hand out working connections afterwards. Found by
 * `npm run bench:db-restart`, which crashed at the first restart.
 */
describe('PostgreSQL connection lost under a query', () => {
  it('rejects the query, keeps the process alive, and the next query works', async () => {
    const db = openDb(PG_URL, { poolSize: 2 });
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const uncaught: Error[] = [];
    const onUncaught = (err: Error) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      await sql`select 1`.execute(db.k);
      const long = db.k.transaction().execute(async (tx) => {
        await sql`select pg_sleep(0.01)`.execute(tx);
        await sql`select pg_sleep(10)`.execute(tx);
      });
      // Terminate the backend running the long query, as a server restart does.
      await expect.poll(async () => (await admin.query(`select pg_terminate_backend(pid) as t from pg_stat_activity where query like 'select pg_sleep(10)%' and pid <> pg_backend_pid()`)).rowCount, { timeout: 5000 }).toBeGreaterThan(0);
      await expect(long).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 100));
      const rows = await sql<{ n: number }>`select 2 as n`.execute(db.k);
      expect(rows.rows[0].n).toBe(2);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await admin.end();
      await db.close();
    }
  });
});
