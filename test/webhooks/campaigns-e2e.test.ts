import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/harness.ts';
import { REAL_PROVIDERS, type MockProvider, type RealProvider } from '../mock-providers/index.ts';
import { channelContacts, memberPayload, mockChannel, optOutPayload, postWebhook, recipientsOf, sendCampaign, startMocks, startWebhookEnv, userId, type WebhookEnv } from './webhook-kit.ts';

/**
 * The loop the webhooks exist for: users message or follow the channel (signed webhooks), which
 * makes them "All channel members"; one opts out; a campaign to all members goes out through
 * the provider's mock and reaches exactly the members still opted in.
 */

const MEMBERS = 6;

describe.each(DIALECTS)('campaigns end to end through each mock on %s', (dialect) => {
  let env: WebhookEnv;
  let mocks: Record<RealProvider, MockProvider>;

  beforeAll(async () => {
    env = await startWebhookEnv(dialect);
    mocks = await startMocks(REAL_PROVIDERS);
  });
  afterAll(async () => {
    await Promise.all(Object.values(mocks ?? {}).map((m) => m.close()));
    await env?.close();
  });

  describe.each(REAL_PROVIDERS)('%s', (provider) => {
    it('members from webhooks receive a campaign sent through the mock', async () => {
      const channelId = await mockChannel(env.t, provider, mocks[provider]);
      const users = Array.from({ length: MEMBERS }, (_, i) => userId(provider, 100 + i));
      for (const [i, user] of users.entries()) {
        const res = await postWebhook(provider, env.hookUrl(channelId), memberPayload(provider, user, 5000 + i, `Member ${i}`));
        expect(res.status).toBe(200);
      }
      let audience = users;
      if (provider !== 'whatsapp') {
        expect((await postWebhook(provider, env.hookUrl(channelId), optOutPayload(provider, users[0], 6000))).status).toBe(200);
        audience = users.slice(1);
      }
      expect(await channelContacts(env.t, channelId)).toHaveLength(MEMBERS);

      const campaign = await sendCampaign(env.t, channelId, 'Hi {{name|friend}}');
      expect(campaign.status).toBe('sent');
      expect(campaign.stats).toMatchObject({ total: audience.length, sent: audience.length, failed: 0, skipped: 0, pending: 0 });
      expect(mocks[provider].received).toHaveLength(audience.length);
      expect(mocks[provider].received.map((m) => m.recipient).sort()).toEqual([...audience].sort());
      const recipients = await recipientsOf(env.t, campaign.id);
      expect(recipients.every((r) => r.status === 'sent' && r.providerMessageId)).toBe(true);
      if (provider === 'whatsapp' || provider === 'telegram') {
        // Profile names from the webhooks fill the {{name}} placeholder.
        expect(mocks[provider].received.map((m) => m.text).sort()).toEqual(audience.map((u) => `Hi Member ${users.indexOf(u)}`).sort());
      }
    });
  });
});
