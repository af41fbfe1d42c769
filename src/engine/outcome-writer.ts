import { sql, type Transaction } from 'kysely';
import type { Db } from '../storage/db.ts';
import type { Schema } from '../storage/schema.ts';
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
  pauseReason: string | null;
  consecutiveFailures: number;
  /** Set when this write moved the campaign to a new status. */
  changedTo?: string;
}

export type LeaseGuard = { owner: string } | { expiredBefore: number };

function guardSql(g: LeaseGuard) {
  return 'owner' in g ? sql`campaign_recipients.lease_owner = ${g.owner}` : sql`campaign_recipients.lease_expires_at < ${g.expiredBefore}`;
}

/**
 * Writes a batch of outcomes in one transaction: the recipient rows (only those this worker still
 * holds), the campaign counters, consecutive-failure count, auto-pause and completion. Counters
 * and rows move together, so total = sent + failed + skipped + pending at every commit.
 */
export async function writeOutcomes(db: Db, results: RecipientResult[], guard: LeaseGuard): Promise<CampaignState[]> {
  if (results.length === 0) return [];
  return db.k.transaction().execute(async (tx) => {
    const applied = new Set<number>();
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
        where campaign_recipients.id = v.id and campaign_recipients.status = 'pending' and ${guardSql(guard)}
        returning campaign_recipients.id`.execute(tx);
      for (const row of res.rows) applied.add(Number(row.id));
    }
    const byCampaign = new Map<string, RecipientResult[]>();
    for (const r of results) if (applied.has(r.id)) (byCampaign.get(r.campaignId) ?? byCampaign.set(r.campaignId, []).get(r.campaignId)!).push(r);

    const optOuts = results.filter((r) => r.optOut && applied.has(r.id)).map((r) => r.identityId);
    for (const part of chunks(optOuts)) {
      await tx.updateTable('identities').set({ opted_out: 1, opted_out_at: Date.now() }).where('id', 'in', part).where('opted_out', '=', 0).execute();
    }
    const states: CampaignState[] = [];
    for (const [campaignId, rs] of byCampaign) states.push(await applyCounters(tx, campaignId, rs));
    return states;
  });
}

async function applyCounters(tx: Transaction<Schema>, campaignId: string, rs: RecipientResult[]): Promise<CampaignState> {
  let sent = 0;
  let failed = 0;
  let trailing = 0;
  let anySuccess = false;
  let lastError: RecipientResult | null = null;
  for (const r of rs) {
    if (r.kind === 'sent') {
      sent++;
      anySuccess = true;
      trailing = 0;
    } else if (r.kind === 'failed') {
      failed++;
      if (r.countsTowardPause === false) continue;
      trailing++;
      lastError = r;
    }
  }
  const cf = anySuccess ? sql`${trailing}` : sql`consecutive_failures + ${trailing}`;
  await sql`update campaigns set sent = sent + ${sent}, failed = failed + ${failed}, consecutive_failures = ${cf}, updated_at = ${Date.now()} where id = ${campaignId}`.execute(tx);
  const row = await tx
    .selectFrom('campaigns')
    .innerJoin('workspaces', 'workspaces.id', 'campaigns.workspace_id')
    .select(['campaigns.workspace_id', 'campaigns.status', 'campaigns.total', 'campaigns.sent', 'campaigns.failed', 'campaigns.skipped', 'campaigns.pause_reason', 'campaigns.consecutive_failures', 'campaigns.audience_fixed', 'workspaces.auto_pause_threshold'])
    .where('campaigns.id', '=', campaignId)
    .executeTakeFirstOrThrow();
  const state: CampaignState = {
    campaignId, workspaceId: row.workspace_id, status: row.status, total: row.total, sent: row.sent, failed: row.failed,
    skipped: row.skipped, pauseReason: row.pause_reason, consecutiveFailures: row.consecutive_failures,
  };
  if (row.status !== 'sending') return state;
  if (failed > 0 && row.consecutive_failures >= row.auto_pause_threshold && lastError) {
    const reason = `Paused automatically after ${row.consecutive_failures} consecutive failures; last error: ${lastError.errorMessage ?? lastError.errorClass}${lastError.errorCode ? ` (code ${lastError.errorCode})` : ''}`;
    await tx.updateTable('campaigns').set({ status: 'paused', pause_reason: reason, updated_at: Date.now() }).where('id', '=', campaignId).where('status', '=', 'sending').execute();
    return { ...state, status: 'paused', pauseReason: reason, changedTo: 'paused' };
  }
  const done = await completeIfDone(tx, campaignId);
  return done ? { ...state, status: done, changedTo: done } : state;
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
