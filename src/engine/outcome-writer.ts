import { sql, type Transaction } from 'kysely';
import type SQLite from 'better-sqlite3';
import type { Db } from '../storage/db.ts';
import { withSqlite } from '../storage/sqlite-statements.ts';
import type { CampaignTable, Schema } from '../storage/schema.ts';
import { finalStatus } from '../campaigns/lifecycle.ts';
import { chunks } from '../contacts/contacts-store.ts';

/** What happened to one recipient, ready to be written. */
export interface RecipientResult {
  id: number;
  campaignId: string;
  identityId: string;
  kind: 'sent' | 'failed' | 'retry';
  providerMessageId?: string | null;
  errorClass?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  /** For `retry`: when it becomes due again. */
  nextAttemptAt?: number;
  /** For `retry` after a transient failure: counts against the retry budget. */
  transient?: boolean;
  /** recipient_blocked: the identity is opted out on the channel. */
  optOut?: boolean;
  /**
   * False for failures that say nothing about the provider or channel (a worker crash left the
   * outcome unknown): they do not count toward auto-pause.
   */
  countsTowardPause?: boolean;
  at: number;
}

export interface CampaignState {
  campaignId: string;
  workspaceId: string;
  status: string;
  total: number;
  sent: number;
  failed: number;
  skipped: number;
  delivered: number;
  read: number;
  pauseReason: string | null;
  consecutiveFailures: number;
  /** Set when this write moved the campaign to a new status. */
  changedTo?: string;
}

export type LeaseGuard = { owner: string } | { expiredBefore: number };

/**
 * Writes a batch of outcomes in one transaction: the recipient rows (only those this worker still
 * holds), the campaign counters, consecutive-failure count, auto-pause and completion. Counters
 * and rows move together, so total = sent + failed + skipped + pending at every commit.
 *
 * Two paths, one logic (`tally`, `decide`): on SQLite, cached prepared statements run
 * synchronously under Kysely's connection lock — building one large statement per batch cost
 * more CPU than the provider calls it recorded; on PostgreSQL, one `UPDATE … FROM (VALUES …)` per
 * 400 rows saves the network round trips.
 */
export async function writeOutcomes(db: Db, results: RecipientResult[], guard: LeaseGuard): Promise<CampaignState[]> {
  if (results.length === 0) return [];
  if (db.sqlite) return withSqlite(db, (raw) => raw.transaction(() => writeSqlite(raw, results, guard)).immediate());
  return db.k.transaction().execute((tx) => writePostgres(tx, results, guard));
}

interface Tally {
  sent: number;
  failed: number;
  trailing: number;
  anySuccess: boolean;
  lastError: RecipientResult | null;
}

/** Counts a campaign's answers in arrival order; `trailing` is the run of failures at the end. */
function tally(rs: RecipientResult[]): Tally {
  const t: Tally = { sent: 0, failed: 0, trailing: 0, anySuccess: false, lastError: null };
  for (const r of rs) {
    if (r.kind === 'sent') {
      t.sent++;
      t.anySuccess = true;
      t.trailing = 0;
    } else if (r.kind === 'failed') {
      t.failed++;
      if (r.countsTowardPause === false) continue;
      t.trailing++;
      t.lastError = r;
    }
  }
  return t;
}

/** The campaign columns a write decides on, and the workspace's auto-pause threshold. */
type CampaignRow = Pick<CampaignTable, 'workspace_id' | 'status' | 'total' | 'sent' | 'failed' | 'skipped' | 'delivered' | 'read'
  | 'pause_reason' | 'consecutive_failures' | 'audience_fixed'> & { auto_pause_threshold: number };

type Decision = { pause: string } | { complete: 'sent' | 'failed' | 'partial' } | null;

/** After the counters moved: pause (threshold reached by this batch's failures), complete, or nothing. */
function decide(row: CampaignRow, t: Tally): Decision {
  if (row.status !== 'sending') return null;
  if (t.failed > 0 && t.lastError && row.consecutive_failures >= row.auto_pause_threshold) {
    const e = t.lastError;
    return { pause: `Paused automatically after ${row.consecutive_failures} consecutive failures; last error: ${e.errorMessage ?? e.errorClass}${e.errorCode ? ` (code ${e.errorCode})` : ''}` };
  }
  if (row.audience_fixed === 1 && row.total === row.sent + row.failed + row.skipped) return { complete: finalStatus(row) };
  return null;
}

function stateOf(campaignId: string, row: CampaignRow): CampaignState {
  return {
    campaignId, workspaceId: row.workspace_id, status: row.status, total: row.total, sent: row.sent, failed: row.failed,
    skipped: row.skipped, delivered: row.delivered, read: row.read, pauseReason: row.pause_reason, consecutiveFailures: row.consecutive_failures,
  };
}

function groupApplied(results: RecipientResult[], applied: Set<number>): [string, RecipientResult[]][] {
  const byCampaign = new Map<string, RecipientResult[]>();
  for (const r of results) if (applied.has(r.id)) (byCampaign.get(r.campaignId) ?? byCampaign.set(r.campaignId, []).get(r.campaignId)!).push(r);
  // Campaign rows are locked in id order, so two writers never wait on each other in a cycle.
  return [...byCampaign].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

const CAMPAIGN_ROW_SQL = `select c.workspace_id, c.status, c.total, c.sent, c.failed, c.skipped, c.delivered, c.read, c.pause_reason,
  c.consecutive_failures, c.audience_fixed, w.auto_pause_threshold from campaigns c join workspaces w on w.id = c.workspace_id where c.id = ?`;

interface SqliteStatements {
  rowByOwner: SQLite.Statement;
  rowExpired: SQLite.Statement;
  optOut: SQLite.Statement;
  counters: SQLite.Statement;
  campaign: SQLite.Statement;
  pause: SQLite.Statement;
  complete: SQLite.Statement;
}

const statements = new WeakMap<SQLite.Database, SqliteStatements>();

function prepared(raw: SQLite.Database): SqliteStatements {
  let s = statements.get(raw);
  if (!s) {
    const row = `update campaign_recipients set status = ?, provider_message_id = coalesce(?, provider_message_id),
      error_class = ?, error_code = ?, error_message = ?, next_attempt_at = ?, transient_failures = transient_failures + ?,
      sent_at = ?, failed_at = ?, lease_owner = null, lease_expires_at = null, attempt_started_at = null
      where id = ? and status = 'pending' and `;
    s = {
      rowByOwner: raw.prepare(row + 'lease_owner = ?'),
      rowExpired: raw.prepare(row + 'lease_expires_at < ?'),
      optOut: raw.prepare('update identities set opted_out = 1, opted_out_at = ? where id = ? and opted_out = 0'),
      counters: raw.prepare(`update campaigns set sent = sent + ?, failed = failed + ?,
        consecutive_failures = case when ? then ? else consecutive_failures + ? end, updated_at = ? where id = ?`),
      campaign: raw.prepare(CAMPAIGN_ROW_SQL),
      pause: raw.prepare(`update campaigns set status = 'paused', pause_reason = ?, updated_at = ? where id = ? and status = 'sending'`),
      complete: raw.prepare(`update campaigns set status = ?, completed_at = ?, updated_at = ? where id = ? and status = 'sending' and total = sent + failed + skipped`),
    };
    statements.set(raw, s);
  }
  return s;
}

function writeSqlite(raw: SQLite.Database, results: RecipientResult[], guard: LeaseGuard): CampaignState[] {
  const st = prepared(raw);
  const applied = new Set<number>();
  const now = Date.now();
  for (const r of results) {
    const args = [r.kind === 'retry' ? 'pending' : r.kind, r.providerMessageId ?? null, r.errorClass ?? null, r.errorCode ?? null,
      r.errorMessage?.slice(0, 2000) ?? null, r.nextAttemptAt ?? 0, r.transient ? 1 : 0, r.kind === 'sent' ? r.at : null, r.kind === 'failed' ? r.at : null, r.id];
    const res = 'owner' in guard ? st.rowByOwner.run(...args, guard.owner) : st.rowExpired.run(...args, guard.expiredBefore);
    if (res.changes === 1) applied.add(r.id);
  }
  for (const r of results) if (r.optOut && applied.has(r.id)) st.optOut.run(now, r.identityId);
  const states: CampaignState[] = [];
  for (const [campaignId, rs] of groupApplied(results, applied)) {
    const t = tally(rs);
    st.counters.run(t.sent, t.failed, t.anySuccess ? 1 : 0, t.trailing, t.trailing, now, campaignId);
    const row = st.campaign.get(campaignId) as CampaignRow;
    const state = stateOf(campaignId, row);
    const d = decide(row, t);
    if (d && 'pause' in d && st.pause.run(d.pause, now, campaignId).changes === 1) states.push({ ...state, status: 'paused', pauseReason: d.pause, changedTo: 'paused' });
    else if (d && 'complete' in d && st.complete.run(d.complete, now, now, campaignId).changes === 1) states.push({ ...state, status: d.complete, changedTo: d.complete });
    else states.push(state);
  }
  return states;
}

async function writePostgres(tx: Transaction<Schema>, results: RecipientResult[], guard: LeaseGuard): Promise<CampaignState[]> {
  const applied = new Set<number>();
  const guardSql = 'owner' in guard ? sql`campaign_recipients.lease_owner = ${guard.owner}` : sql`campaign_recipients.lease_expires_at < ${guard.expiredBefore}`;
  for (const part of chunks(results, 400)) {
    const values = sql.join(
      part.map((r) => sql`(cast(${r.id} as bigint), cast(${r.kind === 'retry' ? 'pending' : r.kind} as text), cast(${r.providerMessageId ?? null} as text),
        cast(${r.errorClass ?? null} as text), cast(${r.errorCode ?? null} as text), cast(${r.errorMessage?.slice(0, 2000) ?? null} as text),
        cast(${r.nextAttemptAt ?? 0} as bigint), cast(${r.transient ? 1 : 0} as integer),
        cast(${r.kind === 'sent' ? r.at : null} as bigint), cast(${r.kind === 'failed' ? r.at : null} as bigint))`),
    );
    const res = await sql<{ id: number }>`
      with v(id, status, pmid, eclass, ecode, emsg, next_at, tinc, sent_at, failed_at) as (values ${values})
      update campaign_recipients set
        status = v.status,
        provider_message_id = coalesce(v.pmid, campaign_recipients.provider_message_id),
        error_class = v.eclass, error_code = v.ecode, error_message = v.emsg,
        next_attempt_at = v.next_at,
        transient_failures = campaign_recipients.transient_failures + v.tinc,
        sent_at = v.sent_at, failed_at = v.failed_at,
        lease_owner = null, lease_expires_at = null, attempt_started_at = null
      from v
      where campaign_recipients.id = v.id and campaign_recipients.status = 'pending' and ${guardSql}
      returning campaign_recipients.id`.execute(tx);
    for (const row of res.rows) applied.add(Number(row.id));
  }
  const now = Date.now();
  const optOuts = results.filter((r) => r.optOut && applied.has(r.id)).map((r) => r.identityId);
  for (const part of chunks(optOuts)) {
    await tx.updateTable('identities').set({ opted_out: 1, opted_out_at: now }).where('id', 'in', part).where('opted_out', '=', 0).execute();
  }
  const states: CampaignState[] = [];
  for (const [campaignId, rs] of groupApplied(results, applied)) {
    const t = tally(rs);
    const cf = t.anySuccess ? sql`${t.trailing}` : sql`consecutive_failures + ${t.trailing}`;
    await sql`update campaigns set sent = sent + ${t.sent}, failed = failed + ${t.failed}, consecutive_failures = ${cf}, updated_at = ${now} where id = ${campaignId}`.execute(tx);
    const row: CampaignRow = await tx.selectFrom('campaigns').innerJoin('workspaces', 'workspaces.id', 'campaigns.workspace_id')
      .select(['campaigns.workspace_id', 'campaigns.status', 'campaigns.total', 'campaigns.sent', 'campaigns.failed', 'campaigns.skipped', 'campaigns.delivered', 'campaigns.read',
        'campaigns.pause_reason', 'campaigns.consecutive_failures', 'campaigns.audience_fixed', 'workspaces.auto_pause_threshold'])
      .where('campaigns.id', '=', campaignId).executeTakeFirstOrThrow();
    const state = stateOf(campaignId, row);
    const d = decide(row, t);
    if (d && 'pause' in d) {
      const res = await tx.updateTable('campaigns').set({ status: 'paused', pause_reason: d.pause, updated_at: now }).where('id', '=', campaignId).where('status', '=', 'sending').executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) { states.push({ ...state, status: 'paused', pauseReason: d.pause, changedTo: 'paused' }); continue; }
    } else if (d && 'complete' in d) {
      const res = await tx.updateTable('campaigns').set({ status: d.complete, completed_at: now, updated_at: now }).where('id', '=', campaignId).where('status', '=', 'sending')
        .where(sql<boolean>`total = sent + failed + skipped`).executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) { states.push({ ...state, status: d.complete, changedTo: d.complete }); continue; }
    }
    states.push(state);
  }
  return states;
}

/** Sending → sent | failed | partial, when the audience is fixed and nothing is pending. */
export async function completeIfDone(tx: Transaction<Schema> | Db['k'], campaignId: string): Promise<string | null> {
  const row = await tx.selectFrom('campaigns').select(['status', 'total', 'sent', 'failed', 'skipped', 'audience_fixed']).where('id', '=', campaignId).executeTakeFirst();
  if (!row || row.status !== 'sending' || row.audience_fixed !== 1 || row.total !== row.sent + row.failed + row.skipped) return null;
  const status = finalStatus(row);
  const now = Date.now();
  const res = await tx
    .updateTable('campaigns')
    .set({ status, completed_at: now, updated_at: now })
    .where('id', '=', campaignId)
    .where('status', '=', 'sending')
    .where(sql<boolean>`total = sent + failed + skipped`)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1 ? status : null;
}
