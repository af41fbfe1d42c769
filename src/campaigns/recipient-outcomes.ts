import type { Db } from '../storage/db.ts';

/**
 * Marks every pending recipient that no worker holds as skipped, and counts them on the campaign
 * in the same transaction (the invariant total = sent + failed + skipped + pending never breaks).
 * Recipients in flight keep their lease; their worker records the real outcome.
 */
export async function skipUnsentRecipients(db: Db, campaignId: string, reason: string): Promise<number> {
  return db.k.transaction().execute(async (tx) => {
    const res = await tx
      .updateTable('campaign_recipients')
      .set({ status: 'skipped', error_message: reason, next_attempt_at: 0 })
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'pending')
      .where('lease_owner', 'is', null)
      .executeTakeFirst();
    const n = Number(res.numUpdatedRows);
    if (n > 0) await tx.updateTable('campaigns').set((eb) => ({ skipped: eb('skipped', '+', n), updated_at: Date.now() })).where('id', '=', campaignId).execute();
    return n;
  });
}
