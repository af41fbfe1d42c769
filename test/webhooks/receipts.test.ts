import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, addContacts, waitFor } from '../helpers/harness.ts';
import { statusWebhook } from '../mock-providers/whatsapp-mock.ts';
import { MOCK_CREDENTIALS, type MockProvider, type RealProvider } from '../mock-providers/index.ts';
import type { ProgressEvent } from '../../src/events/types.ts';
import { mockChannel, postWebhook, recipientsOf, sendCampaign, startMocks, startWebhookEnv, userId, type WebhookEnv } from './webhook-kit.ts';

const RECEIPT_PROVIDERS = ['whatsapp', 'twilio', 'messenger'] as const;
const AUDIENCE = 5;

function consistent(stats: { total: number; sent: number; failed: number; skipped: number; pending: number }) {
  return stats.sent + stats.failed + stats.skipped + stats.pending === stats.total;
}

/** A WhatsApp status webhook; `failed` carries the error as Meta sends it. */
function waStatus(messageId: string, recipient: string, status: 'delivered' | 'read' | 'failed', error?: { code: number; title: string; details: string }) {
  const payload = statusWebhook(MOCK_CREDENTIALS.whatsapp.phoneNumberId, messageId, recipient, status) as any;
  if (error) payload.entry[0].changes[0].value.statuses[0].errors = [{ code: error.code, title: error.title, message: error.title, error_data: { details: error.details } }];
  return payload;
}

describe.each(DIALECTS)('delivery receipts on %s', (dialect) => {
  let env: WebhookEnv;
  let mocks: Record<RealProvider, MockProvider>;
  const channels = {} as Record<RealProvider, string>;

  beforeAll(async () => {
    env = await startWebhookEnv(dialect);
    mocks = await startMocks(RECEIPT_PROVIDERS);
    for (const p of RECEIPT_PROVIDERS) {
      channels[p] = await mockChannel(env.t, p, mocks[p]);
      await addContacts(env.t, channels[p], Array.from({ length: AUDIENCE }, (_, i) => ({ id: userId(p, i + 1), name: `${p} ${i + 1}` })));
    }
    // Twilio is told where to call back with each send; Meta's mocks call back a configured URL.
    const patch = await env.t.api('PATCH', `/api/v1/channels/${channels.twilio}`, { settings: { apiBaseUrl: mocks.twilio.url, statusCallbackUrl: env.hookUrl(channels.twilio) } });
    expect(patch.status).toBe(200);
    // No delay on WhatsApp: its receipts race the engine's write of the send they report on.
    mocks.whatsapp.configure({ webhookUrl: env.hookUrl(channels.whatsapp), webhookDelayMs: 0 });
    mocks.messenger.configure({ webhookUrl: env.hookUrl(channels.messenger) });
  });
  afterAll(async () => {
    await Promise.all(Object.values(mocks ?? {}).map((m) => m.close()));
    await env?.close();
  });

  describe.each(RECEIPT_PROVIDERS)('%s', (provider) => {
    it('a campaign sent through the mock gets every recipient delivered from signed receipts', async () => {
      const campaign = await sendCampaign(env.t, channels[provider]);
      expect(campaign.status).toBe('sent');
      expect(campaign.stats.sent).toBe(AUDIENCE);
      expect(mocks[provider].received).toHaveLength(AUDIENCE);
      const done = await waitFor(async () => {
        const c = (await env.t.api('GET', `/api/v1/campaigns/${campaign.id}`)).body;
        return c.stats.delivered === c.stats.sent ? c : null;
      }, 20_000, `${provider} delivery receipts`);
      expect(done.stats).toMatchObject({ total: AUDIENCE, sent: AUDIENCE, failed: 0, delivered: AUDIENCE, read: 0 });
      const recipients = await recipientsOf(env.t, campaign.id);
      expect(recipients.every((r) => r.status === 'sent' && r.deliveredAt !== null && r.readAt === null && r.providerMessageId)).toBe(true);
      expect(mocks[provider].webhookErrors).toEqual([]);
    });
  });

  describe('late statuses (WhatsApp)', () => {
    let campaign: any;
    let recipients: any[];
    const hook = () => env.hookUrl(channels.whatsapp);
    const get = async () => (await env.t.api('GET', `/api/v1/campaigns/${campaign.id}`)).body;
    const recipient = async (id: string) => (await recipientsOf(env.t, campaign.id)).find((r) => r.id === id);

    beforeAll(async () => {
      mocks.whatsapp.configure({ webhookUrl: undefined });
      campaign = await sendCampaign(env.t, channels.whatsapp, 'Late statuses');
      recipients = await recipientsOf(env.t, campaign.id);
      expect(recipients).toHaveLength(AUDIENCE);
    });

    it('a failed status moves a sent recipient to failed with the code; counts stay consistent; a repeat changes nothing', async () => {
      const r = recipients[0];
      const events: ProgressEvent[] = [];
      const off = env.t.herald.ctx.bus.subscribe(await workspaceOf(campaign.id), campaign.id, (e) => events.push(e));
      const failed = waStatus(r.providerMessageId, r.providerUserId, 'failed', { code: 131026, title: 'Message undeliverable', details: 'Message failed to send because the recipient is not a WhatsApp user.' });
      expect((await postWebhook('whatsapp', hook(), failed)).status).toBe(200);
      const after = await recipient(r.id);
      expect(after).toMatchObject({ status: 'failed', errorCode: '131026', errorClass: 'invalid_recipient', errorMessage: 'Message failed to send because the recipient is not a WhatsApp user.' });
      expect(after.failedAt).not.toBeNull();
      const c = await get();
      expect(c.stats).toMatchObject({ total: AUDIENCE, sent: AUDIENCE - 1, failed: 1, skipped: 0, pending: 0 });
      expect(consistent(c.stats)).toBe(true);
      expect(c.status).toBe('partial');
      await waitFor(async () => events.find((e) => e.stats.failed === 1), 5000, 'progress event');
      off();
      expect((await postWebhook('whatsapp', hook(), failed)).status).toBe(200);
      expect((await get()).stats).toEqual(c.stats);
    });

    it('a per-user marketing cap (131049) fails the recipient without opting the identity out', async () => {
      const r = recipients[1];
      const failed = waStatus(r.providerMessageId, r.providerUserId, 'failed', { code: 131049, title: 'Healthy ecosystem', details: 'This message was not delivered to maintain healthy ecosystem engagement.' });
      expect((await postWebhook('whatsapp', hook(), failed)).status).toBe(200);
      expect(await recipient(r.id)).toMatchObject({ status: 'failed', errorClass: 'content_rejected', errorCode: '131049' });
      const contacts = (await env.t.api('GET', `/api/v1/contacts?channelId=${channels.whatsapp}&q=${encodeURIComponent(r.providerUserId)}`)).body.items;
      expect(contacts[0].identities[0].optedOut).toBe(false);
      expect(consistent((await get()).stats)).toBe(true);
    });

    it('a read status marks delivered and read once, even when delivered arrives afterwards', async () => {
      const r = recipients[2];
      const before = (await get()).stats;
      expect((await postWebhook('whatsapp', hook(), waStatus(r.providerMessageId, r.providerUserId, 'read'))).status).toBe(200);
      expect((await postWebhook('whatsapp', hook(), waStatus(r.providerMessageId, r.providerUserId, 'delivered'))).status).toBe(200);
      const after = await recipient(r.id);
      expect(after.deliveredAt).not.toBeNull();
      expect(after.readAt).not.toBeNull();
      expect((await get()).stats).toMatchObject({ delivered: before.delivered + 1, read: before.read + 1 });
    });

    it('concurrent duplicate deliveries of one receipt count once', async () => {
      const r = recipients[3];
      const before = (await get()).stats;
      const payload = waStatus(r.providerMessageId, r.providerUserId, 'delivered');
      const answers = await Promise.all(Array.from({ length: 12 }, () => postWebhook('whatsapp', hook(), payload)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      // A different event with the same effect (read) racing too: still one delivered, one read.
      const r2 = recipients[4];
      await Promise.all([
        ...Array.from({ length: 6 }, () => postWebhook('whatsapp', hook(), waStatus(r2.providerMessageId, r2.providerUserId, 'delivered'))),
        ...Array.from({ length: 6 }, () => postWebhook('whatsapp', hook(), waStatus(r2.providerMessageId, r2.providerUserId, 'read'))),
      ]);
      expect((await get()).stats).toMatchObject({ delivered: before.delivered + 2, read: before.read + 1, sent: before.sent, failed: before.failed });
    });

    it('a receipt for a message Herald did not send, or with a bad signature, changes nothing', async () => {
      const before = (await get()).stats;
      expect((await postWebhook('whatsapp', hook(), waStatus('wamid.unknown', '15550000000', 'failed', { code: 131026, title: 'x', details: 'x' }))).status).toBe(200);
      const r = recipients[0];
      expect((await postWebhook('whatsapp', hook(), waStatus(r.providerMessageId, r.providerUserId, 'read'), 'bad')).status).toBe(401);
      expect((await get()).stats).toEqual(before);
    });
  });

  it('Twilio undelivered callbacks fail the recipient with the carrier code', async () => {
    await env.t.api('PATCH', `/api/v1/channels/${channels.twilio}`, { settings: { apiBaseUrl: mocks.twilio.url } });
    const campaign = await sendCampaign(env.t, channels.twilio, 'No callbacks');
    const [r] = await recipientsOf(env.t, campaign.id);
    const params = { AccountSid: MOCK_CREDENTIALS.twilio.accountSid, ApiVersion: '2010-04-01', ErrorCode: '30006', From: MOCK_CREDENTIALS.twilio.from, MessageSid: r.providerMessageId, MessageStatus: 'undelivered', SmsSid: r.providerMessageId, SmsStatus: 'undelivered', To: r.providerUserId };
    expect((await postWebhook('twilio', env.hookUrl(channels.twilio), params)).status).toBe(200);
    const after = (await recipientsOf(env.t, campaign.id)).find((x) => x.id === r.id);
    expect(after).toMatchObject({ status: 'failed', errorCode: '30006', errorClass: 'invalid_recipient' });
    const c = (await env.t.api('GET', `/api/v1/campaigns/${campaign.id}`)).body;
    expect(c.stats).toMatchObject({ sent: AUDIENCE - 1, failed: 1 });
    expect(consistent(c.stats)).toBe(true);
  });

  it('a Messenger read watermark marks every earlier message to that user read, once', async () => {
    const campaign = (await env.t.api('GET', `/api/v1/campaigns?limit=200`)).body.items.find((c: any) => c.channelId === channels.messenger);
    const recipients = await recipientsOf(env.t, campaign.id);
    const pageId = MOCK_CREDENTIALS.messenger.pageId;
    const read = (psid: string, watermark: number) => ({ object: 'page', entry: [{ id: pageId, time: Date.now(), messaging: [{ sender: { id: psid }, recipient: { id: pageId }, timestamp: Date.now(), read: { watermark } }] }] });
    const early = read(recipients[0].providerUserId, 1_000);
    expect((await postWebhook('messenger', env.hookUrl(channels.messenger), early)).status).toBe(200);
    expect((await env.t.api('GET', `/api/v1/campaigns/${campaign.id}`)).body.stats.read).toBe(0);
    for (const r of recipients) {
      const payload = read(r.providerUserId, Date.now() + 1000);
      expect((await postWebhook('messenger', env.hookUrl(channels.messenger), payload)).status).toBe(200);
      expect((await postWebhook('messenger', env.hookUrl(channels.messenger), payload)).status).toBe(200);
    }
    const c = (await env.t.api('GET', `/api/v1/campaigns/${campaign.id}`)).body;
    expect(c.stats).toMatchObject({ sent: AUDIENCE, delivered: AUDIENCE, read: AUDIENCE });
    expect((await recipientsOf(env.t, campaign.id)).every((r) => r.readAt !== null)).toBe(true);
  });

  async function workspaceOf(campaignId: string): Promise<string> {
    const row = await env.t.herald.ctx.db.k.selectFrom('campaigns').select('workspace_id').where('id', '=', campaignId).executeTakeFirstOrThrow();
    return row.workspace_id;
  }
});
