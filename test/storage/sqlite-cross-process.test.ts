import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDb } from '../../src/storage/db.ts';

/**
 * `herald api` and `herald worker` as two processes on one SQLite file: a transaction that reads
 * then writes while the other process commits must wait for the lock, not fail at once with
 * "database is locked" (SQLITE_BUSY_SNAPSHOT of a deferred transaction). Found by bench:api in
 * split mode: sending a campaign (audience fixing reads the cursor, then inserts) answered 500.
 */
describe('SQLite shared by two processes', () => {
  it('read-then-write transactions wait for the other process instead of failing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herald-sqlite-'));
    const file = path.join(dir, 'x.db');
    const db = openDb(`sqlite:${file}`);
    try {
      await sql`create table t (id integer primary key, n integer not null)`.execute(db.k);
      await sql`insert into t (id, n) values (1, 0), (2, 0)`.execute(db.k);
      // Another process writes in short transactions as fast as it can for 2 s.
      const writer = spawn(process.execPath, ['-e', `
        const db = new (require('better-sqlite3'))(${JSON.stringify(file)});
        db.pragma('busy_timeout = 10000');
        const up = db.prepare('update t set n = n + 1 where id = 2');
        const end = Date.now() + 2000; let i = 0;
        // The writer itself may hit a busy lock on a loaded machine; it only has to keep writing.
        while (Date.now() < end) { try { up.run(); i++; } catch (e) { if (e.code !== 'SQLITE_BUSY') throw e; } }
        console.log(i);`], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
      let writes = '';
      writer.stdout.on('data', (d: Buffer) => (writes += d.toString()));
      const exited = new Promise<number | null>((resolve) => writer.on('exit', resolve));
      let done = 0;
      while (writer.exitCode === null) {
        await db.k.transaction().execute(async (tx) => {
          const row = await sql<{ n: number }>`select n from t where id = 1`.execute(tx);
          await new Promise((r) => setTimeout(r, 2)); // the other process commits meanwhile
          await sql`update t set n = ${row.rows[0].n + 1} where id = 1`.execute(tx);
        });
        done++;
      }
      expect(await exited).toBe(0);
      expect(Number(writes)).toBeGreaterThan(0);
      const n = (await sql<{ n: number }>`select n from t where id = 1`.execute(db.k)).rows[0].n;
      expect(n).toBe(done); // no lost update either
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
