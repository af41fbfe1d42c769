import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../storage/db.ts';
import type { Audience } from './campaign-schemas.ts';
import { RETRYABLE_CLASSES } from './campaign-schemas.ts';

/**
 * Audience resolution. The audience is the set of channel members (identities on the campaign's
 * channel, not opted out), optionally narrowed to contacts with ANY of the tags (OR), or to the
 * contacts that failed in a parent campaign. One recipient per contact: a contact with two
 * identities on the channel is sent once (the unique index on campaign_id + contact_id).
 */
function memberFilter(workspaceId: string, channelId: string, audience: Audience): RawBuilder<unknown> {
  const base = sql`i.workspace_id = ${workspaceId} and i.channel_id = ${channelId} and i.opted_out = 0`;
  switch (audience.type) {
    case 'all':
      return base;
    case 'tags':
      return sql`${base} and i.contact_id in (select t.contact_id from contact_tags t where t.workspace_id = ${workspaceId} and t.tag in (${sql.join(audience.tags)}))`;
    case 'failed_recipients': {
      const classes = audience.onlyRetryable
        ? sql` and (r.error_class in (${sql.join([...RETRYABLE_CLASSES])}) or r.error_code = 'delivery_uncertain')`
        : sql``;
      return sql`${base} and i.contact_id in (select r.contact_id from campaign_recipients r where r.campaign_id = ${audience.campaignId} and r.status = 'failed'${classes})`;
    }
  }
}

/** Unique contacts the audience has right now (the audience preview). */
export async function countAudience(db: Db, workspaceId: string, channelId: string, audience: Audience): Promise<number> {
  const res = await sql<{ n: number }>`select count(distinct i.contact_id) as n from identities i where ${memberFilter(workspaceId, channelId, audience)}`.execute(db.k);
  return Number(res.rows[0]?.n ?? 0);
}

/** Rows per fixing transaction: measured ~5k rows/transaction keeps SQLite write locks short (<100 ms). */
export const FIX_BATCH = 5000;

/**
 * Fixes the next slice of the audience into recipient rows: contacts after the stored keyset
 * cursor, up to FIX_BATCH identities. The insert, the total and the cursor move in one
 * transaction, guarded by compare-and-set on the cursor, so a crash resumes where it stopped and
 * two processes fixing the same campaign never double-count. Returns true when the audience is
 * completely fixed.
 */
export async function fixAudienceBatch(db: Db, campaign: { id: string; workspaceId: string; channelId: string; audience: Audience }): Promise<boolean> {
  const { done, first, inserted } = await fixSlice(db, campaign);
  // PostgreSQL plans the engine's writes from table statistics; right after a bulk insert they
  // still say "few pending recipients" and the outcome writer's join by id turned into a scan of
  // every pending row per batch (seconds each, found by bench:scale). Refresh them after the first
  // slice and at the end, as one would after any bulk load (ANALYZE samples, and blocks no writes).
  if (db.flags.dialect === 'postgres' && inserted > 0 && (first || done)) await sql`analyze campaign_recipients`.execute(db.k);
  return done;
}

interface Slice { done: boolean; first: boolean; inserted: number }

function fixSlice(db: Db, campaign: { id: string; workspaceId: string; channelId: string; audience: Audience }): Promise<Slice> {
  return db.k.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('campaigns').select(['audience_cursor', 'audience_fixed']).where('id', '=', campaign.id).executeTakeFirst();
    if (!row || row.audience_fixed === 1) return { done: true, first: false, inserted: 0 };
    const cursor = row.audience_cursor ?? '';
    const filter = memberFilter(campaign.workspaceId, campaign.channelId, campaign.audience);
    const bound = await sql<{ contact_id: string }>`select i.contact_id from identities i where ${filter} and i.contact_id > ${cursor}
      order by i.contact_id limit 1 offset ${FIX_BATCH - 1}`.execute(tx);
    const upper = bound.rows[0]?.contact_id ?? null;
    const range = upper === null ? sql`i.contact_id > ${cursor}` : sql`i.contact_id > ${cursor} and i.contact_id <= ${upper}`;
    const inserted = await sql`insert into campaign_recipients
        (campaign_id, contact_id, identity_id, provider_user_id, name, variables, status, attempts, transient_failures, next_attempt_at)
      select ${campaign.id}, i.contact_id, i.id, i.provider_user_id, c.name, c.attributes, 'pending', 0, 0, 0
      from identities i join contacts c on c.id = i.contact_id
      where ${filter} and ${range}
      order by i.contact_id, i.id
      on conflict (campaign_id, contact_id) do nothing`.execute(tx);
    const n = Number(inserted.numAffectedRows ?? 0);
    const done = upper === null;
    const moved = await tx
      .updateTable('campaigns')
      .set((eb) => ({ total: eb('total', '+', n), audience_cursor: upper ?? cursor, audience_fixed: done ? 1 : 0, updated_at: Date.now() }))
      .where('id', '=', campaign.id)
      .where((eb) => (row.audience_cursor === null ? eb('audience_cursor', 'is', null) : eb('audience_cursor', '=', row.audience_cursor)))
      .where('audience_fixed', '=', 0)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1) throw new ConcurrentFixError();
    return { done, first: row.audience_cursor === null, inserted: n };
  }).catch((err) => {
    if (err instanceof ConcurrentFixError) return { done: false, first: false, inserted: 0 };
    throw err;
  });
}

class ConcurrentFixError extends Error {}
