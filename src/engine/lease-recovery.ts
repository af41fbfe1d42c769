import type { Db } from '../storage/db.ts';
import { getAdapter, hasAdapter } from '../providers/registry.ts';
import { writeOutcomes, type CampaignState, type RecipientResult } from './outcome-writer.ts';

/**
 * Takes over recipients whose worker died (lease expired). A recipient whose attempt was never
 * started goes back to pending. One whose provider call may have happened is re-sent only where
 * the provider takes an idempotency key (the same key, so the provider drops a duplicate);
 * otherwise it ends as failed, "delivery uncertain", for a person to retry: never a double send.
 */
export async function recoverExpiredLeases(db: Db, now = Date.now()): Promise<CampaignState[]> {
  const rows = await db.k
    .selectFrom('campaign_recipients as r')
    .innerJoin('campaigns as c', 'c.id', 'r.campaign_id')
    .innerJoin('channels as ch', 'ch.id', 'c.channel_id')
    .select(['r.id', 'r.campaign_id', 'r.identity_id', 'r.attempt_started_at', 'ch.provider'])
    .where('r.status', '=', 'pending')
    .where('r.lease_expires_at', '<', now)
    .limit(2000)
    .execute();
  if (rows.length === 0) return [];
  const resend: number[] = [];
  const uncertain: RecipientResult[] = [];
  for (const r of rows) {
    const idempotent = hasAdapter(r.provider) && getAdapter(r.provider).supportsIdempotencyKey;
    if (r.attempt_started_at === null || idempotent) resend.push(Number(r.id));
    else {
      uncertain.push({
        id: Number(r.id), campaignId: r.campaign_id, identityId: r.identity_id, kind: 'failed', at: now,
        errorClass: 'transient', errorCode: 'delivery_uncertain', errorMessage: 'delivery uncertain', countsTowardPause: false,
      });
    }
  }
  if (resend.length) {
    await db.k.updateTable('campaign_recipients')
      .set({ lease_owner: null, lease_expires_at: null, attempt_started_at: null })
      .where('id', 'in', resend).where('status', '=', 'pending').where('lease_expires_at', '<', now)
      .execute();
  }
  return writeOutcomes(db, uncertain, { expiredBefore: now });
}
