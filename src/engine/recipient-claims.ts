import { sql } from 'kysely';
import type { Db } from '../storage/db.ts';
import { statement, withSqlite } from '../storage/sqlite-statements.ts';

/**
 * Recipient states (the `status` column, plus lease columns for work in flight):
 *
 *   pending ──claim (lease + attempt recorded)──▶ in flight ──answer──▶ sent | failed
 *      ▲                                              │
 *      └── retry later (transient / rate limited / channel_auth; lease cleared) ◀──┘
 *   pending ──cancel──▶ skipped
 *   in flight ──lease expired──▶ pending again (attempt never started, or the provider takes an
 *                                 idempotency key) | failed "delivery uncertain" (otherwise)
 *
 * The attempt is written before the provider is called, so after a crash we know which
 * recipients may have reached the provider.
 */
export interface ClaimedRecipient {
  id: number;
  campaignId: string;
  identityId: string;
  providerUserId: string;
  name: string;
  variables: string;
  attempts: number;
  transientFailures: number;
}

/** Leases up to `limit` due recipients of one sending campaign and records the attempt. */
export async function claimRecipients(db: Db, campaignId: string, workerId: string, limit: number, leaseMs: number, now = Date.now()): Promise<ClaimedRecipient[]> {
  if (db.sqlite) {
    return withSqlite(db, (raw) => (statement(raw, SQLITE_CLAIM).all(workerId, now + leaseMs, now, campaignId, now, campaignId, limit) as ClaimRow[]).map(toClaimed));
  }
  const lock = db.flags.skipLocked ? sql`for update skip locked` : sql``;
  const res = await sql<ClaimRow>`
    update campaign_recipients
       set lease_owner = ${workerId}, lease_expires_at = ${now + leaseMs}, attempt_started_at = ${now}, attempts = attempts + 1
     where id in (
       select id from campaign_recipients
        where campaign_id = ${campaignId} and status = 'pending' and next_attempt_at <= ${now} and lease_owner is null
          and exists (select 1 from campaigns c where c.id = ${campaignId} and c.status = 'sending')
        limit ${limit} ${lock})
     returning id, campaign_id, identity_id, provider_user_id, name, variables, attempts, transient_failures`.execute(db.k);
  return res.rows.map(toClaimed);
}

interface ClaimRow { id: number; campaign_id: string; identity_id: string; provider_user_id: string; name: string; variables: string; attempts: number; transient_failures: number }

function toClaimed(r: ClaimRow): ClaimedRecipient {
  return {
    id: Number(r.id), campaignId: r.campaign_id, identityId: r.identity_id, providerUserId: r.provider_user_id,
    name: r.name, variables: r.variables, attempts: r.attempts, transientFailures: r.transient_failures,
  };
}

/** The same claim as the PostgreSQL one below, as one cached statement (SQLite has one writer: no locks to skip). */
const SQLITE_CLAIM = `update campaign_recipients
   set lease_owner = ?, lease_expires_at = ?, attempt_started_at = ?, attempts = attempts + 1
 where id in (
   select id from campaign_recipients
    where campaign_id = ? and status = 'pending' and next_attempt_at <= ? and lease_owner is null
      and exists (select 1 from campaigns c where c.id = ? and c.status = 'sending')
    limit ?)
 returning id, campaign_id, identity_id, provider_user_id, name, variables, attempts, transient_failures`;

/** Gives back claimed recipients that were never sent (shutdown, local pause): the attempt is undone. */
export async function releaseUnstarted(db: Db, workerId: string, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.k
    .updateTable('campaign_recipients')
    .set((eb) => ({ lease_owner: null, lease_expires_at: null, attempt_started_at: null, attempts: eb('attempts', '-', 1) }))
    .where('id', 'in', ids)
    .where('lease_owner', '=', workerId)
    .execute();
}

