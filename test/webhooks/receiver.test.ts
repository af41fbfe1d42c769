import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiptEvent } from '../../src/providers/webhook-types.ts';
import { ReceiptRetrier } from '../../src/webhooks/receipt-retry.ts';
import { WebhookReceiver } from '../../src/webhooks/webhook-service.ts';
import { recordWebhookEvent } from '../../src/webhooks/webhook-store.ts';
import { DIALECTS, addContacts, simulatorChannel, waitFor, type TestHerald, startHerald } from '../helpers/harness.ts';
import { sendCampaign } from './webhook-kit.ts';

const silent = pino({ level: 'silent' });
const receipt = (id: string, status: ReceiptEvent['status'] = 'delivered'): ReceiptEvent => ({ kind: 'receipt', providerMessageId: id, status, at: Date.now(), dedupeKey: `test:${id}:${status}` });

describe('ReceiptRetrier', () => {
  it('retries unmatched receipts with growing delays until they match or attempts run out', async () => {
    const calls: { at: number; ids: string[] }[] = [];
    const start = Date.now();
    const retrier = new ReceiptRetrier(async (_channel, receipts) => {
      calls.push({ at: Date.now() - start, ids: receipts.map((r) => r.providerMessageId) });
      return calls.length < 3 ? receipts.slice(0, 1) : [];
    }, silent, [10, 20, 40, 80]);
    retrier.defer('ch', [receipt('a'), receipt('b')]);
    expect(retrier.size).toBe(2);
    await waitFor(async () => calls.length === 3, 2000);
    expect(calls.map((c) => c.ids)).toEqual([['a', 'b'], ['a'], ['a']]);
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(15);
    await new Promise((r) => setTimeout(r, 150));
    expect(calls).toHaveLength(3);
    expect(retrier.size).toBe(0);
    retrier.close();
  });

  it('gives up after the last delay, bounds its queue, and stops on close', async () => {
    let calls = 0;
    const retrier = new ReceiptRetrier(async (_c, receipts) => {
      calls++;
      return receipts;
    }, silent, [5, 5], 3);
    retrier.defer('ch', [receipt('a')]);
    retrier.defer('ch', [receipt('b'), receipt('c'), receipt('d')]);
    expect(retrier.size).toBe(1);
    await waitFor(async () => calls === 2, 1000);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(2);
    retrier.defer('ch', [receipt('e')]);
    retrier.close();
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toBe(2);
    expect(retrier.size).toBe(0);
  });
});

describe.each(DIALECTS)('WebhookReceiver on %s', (dialect) => {
  let t: TestHerald;
  let receiver: WebhookReceiver;
  let channelId: string;
  let campaignId: string;

  beforeAll(async () => {
    t = await startHerald(dialect);
    receiver = new WebhookReceiver(t.herald.ctx);
    channelId = await simulatorChannel(t);
    await addContacts(t, channelId, [{ id: 'r1' }, { id: 'r2' }, { id: 'r3' }]);
    campaignId = (await sendCampaign(t, channelId)).id;
  });
  afterAll(async () => {
    receiver?.close();
    await t?.close();
  });

  const k = () => t.herald.ctx.db.k;
  const row = (id: number) => k().selectFrom('campaign_recipients').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('records each dedupe key once', async () => {
    expect(await recordWebhookEvent(k(), channelId, 'once')).toBe(true);
    expect(await recordWebhookEvent(k(), channelId, 'once')).toBe(false);
    expect(await recordWebhookEvent(k(), 'other-channel', 'once')).toBe(true);
    const long = 'k'.repeat(5000);
    expect(await recordWebhookEvent(k(), channelId, long)).toBe(true);
    expect(await recordWebhookEvent(k(), channelId, long)).toBe(false);
  });

  it('drops a receipt for an unknown message at once when no send is in flight', async () => {
    const result = await receiver.applyDeliveries(channelId, [receipt('not-ours')]);
    expect(result).toEqual({ applied: 0, retry: [] });
  });

  it('keeps a receipt that overtook its send and applies it once the send is written', async () => {
    const recipients = await k().selectFrom('campaign_recipients').selectAll().where('campaign_id', '=', campaignId).orderBy('id').execute();
    const target = recipients[0];
    const pmid = target.provider_message_id!;
    // Back to "claimed, answer not yet written": what a receipt arriving early sees.
    await k().updateTable('campaign_recipients').set({ status: 'pending', provider_message_id: null, lease_owner: 'worker-x', lease_expires_at: Date.now() + 60_000 }).where('id', '=', target.id).execute();
    await k().updateTable('campaigns').set((eb) => ({ sent: eb('sent', '-', 1) })).where('id', '=', campaignId).execute();

    const early = receipt(pmid);
    expect(await receiver.process({ id: channelId, workspaceId: 'unused' }, [early])).toBe(0);
    expect(receiver.retrier.size).toBe(1);

    // The engine's answer lands.
    await k().updateTable('campaign_recipients').set({ status: 'sent', provider_message_id: pmid, lease_owner: null, lease_expires_at: null }).where('id', '=', target.id).execute();
    await k().updateTable('campaigns').set((eb) => ({ sent: eb('sent', '+', 1) })).where('id', '=', campaignId).execute();

    await waitFor(async () => (await row(Number(target.id))).delivered_at !== null, 5000, 'deferred receipt');
    const c = await k().selectFrom('campaigns').selectAll().where('id', '=', campaignId).executeTakeFirstOrThrow();
    expect(c.delivered).toBe(1);
    // Redelivered later: a duplicate.
    expect(await receiver.applyDeliveries(channelId, [early])).toEqual({ applied: 0, retry: [] });
  });

  it('ignores receipts of another channel\'s messages', async () => {
    const other = await simulatorChannel(t);
    const [r] = await k().selectFrom('campaign_recipients').selectAll().where('campaign_id', '=', campaignId).orderBy('id', 'desc').limit(1).execute();
    expect(await receiver.applyDeliveries(other, [receipt(r.provider_message_id!, 'failed')])).toEqual({ applied: 0, retry: [] });
    expect((await row(Number(r.id))).status).toBe('sent');
  });
});
