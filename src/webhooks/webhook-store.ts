import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { finalStatus } from '../campaigns/lifecycle.ts';
import type { Schema } from '../storage/schema.ts';
import type { ReadWatermarkEvent, ReceiptEvent } from '../providers/webhook-types.ts';

/**
 * The SQL behind inbound webhooks: deduplication (`webhook_events`) and the receipt updates of
 * recipients and campaign counters. Every recipient update is conditional (`delivered_at is null`,
 * `status = 'sent'`…) and counters move only by the rows it changed, so the same receipt applied
 * twice, or raced by a concurrent delivery, never counts twice. Counter deltas are collected and
 * written last, in campaign id order, so two webhook transactions lock campaigns in one order.
 */

type Exec = Kysely<Schema> | Transaction<Schema>;

/** Keys longer than this are stored as their SHA-256 (index entries stay small). */
const MAX_KEY = 200;

function storedKey(dedupeKey: string): string {
  return dedupeKey.length <= MAX_KEY ? dedupeKey : `sha256:${createHash('sha256').update(dedupeKey).digest('hex')}`;
}

/**
 * Records that an event was seen. True only for the first caller: the insert does nothing on a
 * duplicate, and on PostgreSQL a concurrent transaction inserting the same key waits for the
 * first to commit (then sees the conflict) or roll back (then inserts).
 */
export async function recordWebhookEvent(k: Exec, channelId: string, dedupeKey: string, at = Date.now()): Promise<boolean> {
  const res = await k
    .insertInto('webhook_events')
    .values({ channel_id: channelId, dedupe_key: storedKey(dedupeKey), received_at: at })
    .onConflict((oc) => oc.columns(['channel_id', 'dedupe_key']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** Undoes `recordWebhookEvent` when applying the event failed, so the provider's retry is not skipped. */
export async function forgetWebhookEvent(k: Exec, channelId: string, dedupeKey: string): Promise<void> {
  await k.deleteFrom('webhook_events').where('channel_id', '=', channelId).where('dedupe_key', '=', storedKey(dedupeKey)).execute();
}

/** Deletes dedupe records older than `before` (providers stop redelivering after a few days). */
export async function pruneWebhookEvents(k: Exec, before: number): Promise<number> {
  const res = await k.deleteFrom('webhook_events').where('received_at', '<', before).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/**
 * Whether a send on this channel is in flight (claimed, answer not yet written). Only then can a
 * receipt that matches no recipient be for a message whose provider id is about to be recorded.
 */
export async function hasInFlightSends(k: Exec, channelId: string): Promise<boolean> {
  const row = await k
    .selectFrom('campaign_recipients as r')
    .innerJoin('campaigns as c', 'c.id', 'r.campaign_id')
    .select('r.id')
    .where('c.channel_id', '=', channelId)
    .where('r.status', '=', 'pending')
    .where('r.lease_owner', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

interface Delta {
  sent: number;
  failed: number;
  delivered: number;
  read: number;
}

/** Counter changes of one transaction, per campaign. */
export class CounterDeltas {
  private readonly byCampaign = new Map<string, Delta>();

  add(campaignId: string, d: Partial<Delta>): void {
    const cur = this.byCampaign.get(campaignId) ?? { sent: 0, failed: 0, delivered: 0, read: 0 };
    cur.sent += d.sent ?? 0;
    cur.failed += d.failed ?? 0;
    cur.delivered += d.delivered ?? 0;
    cur.read += d.read ?? 0;
    this.byCampaign.set(campaignId, cur);
  }

  get campaignIds(): string[] {
    return [...this.byCampaign.keys()];
  }

  /**
   * Writes the deltas (campaign id order). A late failure in a finished campaign updates its
   * final status too (sent → partial/failed), as the engine would have decided with these counts.
   */
  async apply(tx: Transaction<Schema>): Promise<void> {
    const now = Date.now();
    for (const id of [...this.byCampaign.keys()].sort()) {
      const d = this.byCampaign.get(id)!;
      if (!d.sent && !d.failed && !d.delivered && !d.read) continue;
      await tx
        .updateTable('campaigns')
        .set((eb) => ({
          sent: eb('sent', '+', d.sent),
          failed: eb('failed', '+', d.failed),
          delivered: eb('delivered', '+', d.delivered),
          read: eb('read', '+', d.read),
          updated_at: now,
        }))
        .where('id', '=', id)
        .execute();
      if (d.failed === 0) continue;
      const row = await tx.selectFrom('campaigns').select(['status', 'sent', 'failed']).where('id', '=', id).executeTakeFirst();
      if (!row || !['sent', 'failed', 'partial'].includes(row.status)) continue;
      const status = finalStatus(row);
      if (status !== row.status) await tx.updateTable('campaigns').set({ status, updated_at: now }).where('id', '=', id).where('status', '=', row.status).execute();
    }
  }
}

async function markDelivered(tx: Transaction<Schema>, id: number, at: number): Promise<boolean> {
  const res = await tx.updateTable('campaign_recipients').set({ delivered_at: at }).where('id', '=', id).where('status', '=', 'sent').where('delivered_at', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

async function markRead(tx: Transaction<Schema>, id: number, at: number): Promise<boolean> {
  const res = await tx.updateTable('campaign_recipients').set({ read_at: at }).where('id', '=', id).where('status', '=', 'sent').where('read_at', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** Read implies delivered: both timestamps and both counters, each only the first time. */
async function readRecipient(tx: Transaction<Schema>, r: { id: number; campaign_id: string }, at: number, deltas: CounterDeltas): Promise<void> {
  if (await markRead(tx, r.id, at)) deltas.add(r.campaign_id, { read: 1 });
  if (await markDelivered(tx, r.id, at)) deltas.add(r.campaign_id, { delivered: 1 });
}

/**
 * A provider said a message it had accepted could not be delivered: the recipient moves from
 * sent to failed (only from sent), counters follow in the same transaction, delivered/read marks
 * are withdrawn, and a `recipient_blocked` failure opts the identity out as a send failure would.
 */
async function failRecipient(tx: Transaction<Schema>, r: { id: number; campaign_id: string; identity_id: string }, e: ReceiptEvent, deltas: CounterDeltas): Promise<void> {
  const errorClass = e.errorClass ?? 'content_rejected';
  const [row] = await tx
    .updateTable('campaign_recipients')
    .set({ status: 'failed', error_class: errorClass, error_code: e.errorCode ?? null, error_message: e.errorMessage?.slice(0, 2000) ?? null, failed_at: e.at })
    .where('id', '=', r.id)
    .where('status', '=', 'sent')
    .returning(['delivered_at', 'read_at'])
    .execute();
  if (!row) return;
  deltas.add(r.campaign_id, { sent: -1, failed: 1, delivered: row.delivered_at !== null ? -1 : 0, read: row.read_at !== null ? -1 : 0 });
  if (row.delivered_at !== null || row.read_at !== null) {
    await tx.updateTable('campaign_recipients').set({ delivered_at: null, read_at: null }).where('id', '=', r.id).execute();
  }
  if (errorClass === 'recipient_blocked') {
    await tx.updateTable('identities').set({ opted_out: 1, opted_out_at: Date.now() }).where('id', '=', r.identity_id).where('opted_out', '=', 0).execute();
  }
}

export type ReceiptResult = 'applied' | 'duplicate' | 'unmatched';

/**
 * Applies one receipt to the recipients of this channel's campaigns that carry its provider
 * message id. `unmatched` records nothing, so the same receipt can be applied later (it may have
 * overtaken the write of the send it reports on).
 */
export async function applyReceipt(tx: Transaction<Schema>, channelId: string, e: ReceiptEvent, deltas: CounterDeltas): Promise<ReceiptResult> {
  const rows = await tx
    .selectFrom('campaign_recipients as r')
    .innerJoin('campaigns as c', 'c.id', 'r.campaign_id')
    .select(['r.id', 'r.campaign_id', 'r.identity_id'])
    .where('r.provider_message_id', '=', e.providerMessageId)
    .where('c.channel_id', '=', channelId)
    .execute();
  if (rows.length === 0) return 'unmatched';
  if (!(await recordWebhookEvent(tx, channelId, e.dedupeKey))) return 'duplicate';
  for (const r of rows) {
    const id = Number(r.id);
    if (e.status === 'delivered') {
      if (await markDelivered(tx, id, e.at)) deltas.add(r.campaign_id, { delivered: 1 });
    } else if (e.status === 'read') {
      await readRecipient(tx, { id, campaign_id: r.campaign_id }, e.at, deltas);
    } else {
      await failRecipient(tx, { id, campaign_id: r.campaign_id, identity_id: r.identity_id }, e, deltas);
    }
  }
  return 'applied';
}

/** Messenger read watermark: every message sent to the user on this channel up to `watermark` was read. */
export async function applyReadWatermark(tx: Transaction<Schema>, channelId: string, e: ReadWatermarkEvent, deltas: CounterDeltas): Promise<ReceiptResult> {
  if (!(await recordWebhookEvent(tx, channelId, e.dedupeKey))) return 'duplicate';
  const rows = await tx
    .selectFrom('campaign_recipients as r')
    .innerJoin('campaigns as c', 'c.id', 'r.campaign_id')
    .select(['r.id', 'r.campaign_id'])
    .where('c.channel_id', '=', channelId)
    .where('r.provider_user_id', '=', e.providerUserId)
    .where('r.status', '=', 'sent')
    .where('r.sent_at', '<=', e.watermark)
    .where('r.read_at', 'is', null)
    .execute();
  for (const r of rows) await readRecipient(tx, { id: Number(r.id), campaign_id: r.campaign_id }, e.watermark, deltas);
  return 'applied';
}
