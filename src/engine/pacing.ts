import { sql } from 'kysely';
import type { Db } from '../storage/db.ts';
import { statement, withSqlite } from '../storage/sqlite-statements.ts';

/**
 * Channel pacing shared by every worker of every process: GCRA kept in one row per channel.
 * `tat` (theoretical arrival time) is the next free send slot; a worker reserves k slots with one
 * atomic UPDATE and sends its k messages at start, start + 1/rate, …; so the channel's total
 * never exceeds its rate however many workers share it. One write per k sends (k ≈ 200 ms of
 * traffic) keeps the row cool: at 1,000/s that is ~5 writes/s per worker.
 */
export interface SlotReservation {
  /** Epoch ms of the first slot. */
  start: number;
  /** Milliseconds between slots. */
  interval: number;
  count: number;
  /** tat after our reservation, to give back unused slots with compare-and-set. */
  end: number;
}

export async function reserveSlots(db: Db, channelId: string, ratePerSecond: number, count: number, now = Date.now()): Promise<SlotReservation> {
  const interval = 1000 / ratePerSecond;
  const span = interval * count;
  if (db.sqlite) {
    const row = await withSqlite(db, (raw) => statement(raw, SQLITE_RESERVE).get(now, span, channelId) as { tat: number } | undefined);
    if (row) return { start: row.tat - span, interval, count, end: row.tat };
  }
  const res = await sql<{ tat: number; blocked_until: number }>`
    update channel_pacing
       set tat = ${sql.raw(db.flags.greatest)}(tat, ${now}, blocked_until) + ${span}
     where channel_id = ${channelId}
     returning tat, blocked_until`.execute(db.k);
  let row = res.rows[0];
  if (!row) {
    await db.k.insertInto('channel_pacing').values({ channel_id: channelId, tat: 0, blocked_until: 0 }).onConflict((oc) => oc.doNothing()).execute();
    return reserveSlots(db, channelId, ratePerSecond, count, now);
  }
  row = { tat: Number(row.tat), blocked_until: Number(row.blocked_until) };
  return { start: row.tat - span, interval, count, end: row.tat };
}

const SQLITE_RESERVE = 'update channel_pacing set tat = max(tat, ?, blocked_until) + ? where channel_id = ? returning tat';

/** Returns slots we did not use, if nobody reserved after us (otherwise they simply pass unused). */
export async function releaseSlots(db: Db, channelId: string, r: SlotReservation, unused: number): Promise<void> {
  if (unused <= 0) return;
  await sql`update channel_pacing set tat = tat - ${unused * r.interval} where channel_id = ${channelId} and tat = ${r.end}`.execute(db.k);
}

/** A provider rate-limit answer: nobody sends on this channel before `until`. */
export async function blockChannel(db: Db, channelId: string, until: number): Promise<void> {
  await sql`update channel_pacing
       set blocked_until = ${sql.raw(db.flags.greatest)}(blocked_until, ${until}),
           tat = ${sql.raw(db.flags.greatest)}(tat, ${until})
     where channel_id = ${channelId}`.execute(db.k);
}

