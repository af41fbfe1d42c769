import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, simulatorChannel } from '../helpers/harness.ts';
import { MOCK_CREDENTIALS, REAL_PROVIDERS, type MockProvider, type RealProvider } from '../mock-providers/index.ts';
import {
  channelContacts, identityOf, memberPayload, metaSignature, mockChannel, optInPayload, optOutPayload, postWebhook, startMocks, startWebhookEnv, userId, type WebhookEnv,
} from './webhook-kit.ts';

const NAMED: readonly RealProvider[] = ['whatsapp', 'telegram'];
const OPT_OUT_PROVIDERS = ['line', 'telegram', 'messenger', 'twilio'] as const;

describe.each(DIALECTS)('inbound webhooks on %s', (dialect) => {
  let env: WebhookEnv;
  let mocks: Record<RealProvider, MockProvider>;
  const channels = {} as Record<RealProvider, string>;
  let key = 1000;
  const nextKey = () => ++key;

  beforeAll(async () => {
    env = await startWebhookEnv(dialect);
    mocks = await startMocks(REAL_PROVIDERS);
    for (const p of REAL_PROVIDERS) channels[p] = await mockChannel(env.t, p, mocks[p]);
  });
  afterAll(async () => {
    await Promise.all(Object.values(mocks ?? {}).map((m) => m.close()));
    await env?.close();
  });

  const url = (p: RealProvider) => env.hookUrl(channels[p]);
  const dedupeRows = async (channelId: string) => (await env.t.herald.ctx.db.k.selectFrom('webhook_events').select('dedupe_key').where('channel_id', '=', channelId).execute()).length;

  describe.each(REAL_PROVIDERS)('%s', (provider) => {
    it('a signed member webhook creates a contact with that channel identity (and profile name)', async () => {
      const user = userId(provider, 1);
      const name = NAMED.includes(provider) ? 'Alice Example' : undefined;
      const res = await postWebhook(provider, url(provider), memberPayload(provider, user, nextKey(), name));
      expect(res.status).toBe(200);
      const found = await identityOf(env.t, channels[provider], user);
      expect(found).not.toBeNull();
      expect(found!.identity.optedOut).toBe(false);
      expect(found!.contact.name).toBe(name ?? '');
    });

    it("the mock's own signed webhook is accepted too", async () => {
      const user = userId(provider, 2);
      const res = await mocks[provider].sendWebhook(url(provider), memberPayload(provider, user, nextKey()));
      expect(res.status).toBe(200);
      expect(await identityOf(env.t, channels[provider], user)).not.toBeNull();
    });

    it('a bad signature is 401 and changes nothing', async () => {
      const before = await channelContacts(env.t, channels[provider]);
      const events = await dedupeRows(channels[provider]);
      const res = await postWebhook(provider, url(provider), memberPayload(provider, userId(provider, 3), nextKey(), 'Mallory'), 'bad');
      expect(res.status).toBe(401);
      expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'unauthorized' } });
      expect(await channelContacts(env.t, channels[provider])).toEqual(before);
      expect(await dedupeRows(channels[provider])).toBe(events);
    });

    it('a missing signature is 401', async () => {
      const before = (await channelContacts(env.t, channels[provider])).length;
      const res = await postWebhook(provider, url(provider), memberPayload(provider, userId(provider, 4), nextKey()), 'none');
      expect(res.status).toBe(401);
      expect(JSON.parse(res.text).error.code).toBe('unauthorized');
      expect(await channelContacts(env.t, channels[provider])).toHaveLength(before);
    });

    it('a duplicate delivery of the same event is acknowledged and ignored', async () => {
      const payload = memberPayload(provider, userId(provider, 5), nextKey());
      expect((await postWebhook(provider, url(provider), payload)).status).toBe(200);
      const contacts = await channelContacts(env.t, channels[provider]);
      const events = await dedupeRows(channels[provider]);
      expect((await postWebhook(provider, url(provider), payload)).status).toBe(200);
      expect(await channelContacts(env.t, channels[provider])).toEqual(contacts);
      expect(await dedupeRows(channels[provider])).toBe(events);
    });

    it('a signed body that is not the provider\'s format is 400', async () => {
      const body = provider === 'twilio' ? { Foo: 'bar' } : provider === 'telegram' ? { hello: 'world' } : 'not json at all';
      const res = await postWebhook(provider, url(provider), body);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).error.code).toBe('validation_failed');
    });
  });

  describe.each(OPT_OUT_PROVIDERS)('%s opt-out signal', (provider) => {
    it('marks the identity opted out, an opt-in clears it, and a redelivered opt-out is ignored', async () => {
      const user = userId(provider, 10);
      expect((await postWebhook(provider, url(provider), memberPayload(provider, user, nextKey()))).status).toBe(200);
      const optOut = optOutPayload(provider, user, nextKey());
      expect((await postWebhook(provider, url(provider), optOut)).status).toBe(200);
      expect((await identityOf(env.t, channels[provider], user))!.identity.optedOut).toBe(true);
      expect((await postWebhook(provider, url(provider), optInPayload(provider, user, nextKey()))).status).toBe(200);
      expect((await identityOf(env.t, channels[provider], user))!.identity.optedOut).toBe(false);
      expect((await postWebhook(provider, url(provider), optOut)).status).toBe(200);
      expect((await identityOf(env.t, channels[provider], user))!.identity.optedOut).toBe(false);
    });

    it('a forged opt-out is refused', async () => {
      const user = userId(provider, 11);
      await postWebhook(provider, url(provider), memberPayload(provider, user, nextKey()));
      expect((await postWebhook(provider, url(provider), optOutPayload(provider, user, nextKey()), 'bad')).status).toBe(401);
      expect((await identityOf(env.t, channels[provider], user))!.identity.optedOut).toBe(false);
    });
  });

  it('updates the profile name of a known member, never blanks it', async () => {
    for (const provider of NAMED) {
      const user = userId(provider, 20);
      await postWebhook(provider, url(provider), memberPayload(provider, user, nextKey(), 'Old Name'));
      await postWebhook(provider, url(provider), memberPayload(provider, user, nextKey(), 'New Name'));
      expect((await identityOf(env.t, channels[provider], user))!.contact.name).toBe('New Name');
      // WhatsApp without a contacts block: no name in the event.
      if (provider === 'whatsapp') await postWebhook(provider, url(provider), memberPayload(provider, user, nextKey()));
      const found = await identityOf(env.t, channels[provider], user);
      expect(found!.contact.name).toBe('New Name');
      expect((await channelContacts(env.t, channels[provider])).filter((c) => c.identities.some((i) => i.providerUserId === user))).toHaveLength(1);
    }
  });

  it('a Twilio signature over another URL is refused (the full URL is signed)', async () => {
    const res = await postWebhook('twilio', `${url('twilio')}?x=1`, memberPayload('twilio', userId('twilio', 30), nextKey()));
    expect(res.status).toBe(200);
    const params = memberPayload('twilio', userId('twilio', 31), nextKey()) as Record<string, string>;
    const { default: twilio } = await import('twilio');
    const elsewhere = twilio.getExpectedTwilioSignature(MOCK_CREDENTIALS.twilio.authToken, 'https://example.com/webhooks/x', params);
    const forged = await fetch(url('twilio'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': elsewhere }, body: new URLSearchParams(params).toString() });
    expect(forged.status).toBe(401);
  });

  it('answers Twilio with empty TwiML so no reply SMS is sent', async () => {
    const res = await fetch(url('twilio'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(res.status).toBe(401);
    const ok = await postWebhook('twilio', url('twilio'), memberPayload('twilio', userId('twilio', 32), nextKey()));
    expect(ok.text).toContain('<Response></Response>');
  });

  describe.each(['whatsapp', 'messenger'] as const)('%s verify handshake', (provider) => {
    it('echoes the challenge for the right verify token, 403 otherwise', async () => {
      const q = (token: string) => `?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(token)}&hub.challenge=1158201444`;
      const ok = await fetch(url(provider) + q(MOCK_CREDENTIALS[provider].verifyToken));
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe('1158201444');
      const wrong = await fetch(url(provider) + q('not-the-token'));
      expect(wrong.status).toBe(403);
      expect((await wrong.json()).error.code).toBe('forbidden');
      expect((await fetch(`${url(provider)}?hub.mode=unsubscribe&hub.verify_token=${MOCK_CREDENTIALS[provider].verifyToken}&hub.challenge=1`)).status).toBe(403);
    });
  });

  it('has no GET handshake for providers without one', async () => {
    expect((await fetch(`${url('line')}?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1`)).status).toBe(404);
  });

  it('unknown, deleted and simulator channels are 404', async () => {
    const body = memberPayload('telegram', userId('telegram', 40), nextKey());
    expect((await postWebhook('telegram', env.hookUrl('no-such-channel'), body)).status).toBe(404);
    const sim = await simulatorChannel(env.t);
    expect((await postWebhook('telegram', env.hookUrl(sim), body)).status).toBe(404);
    const doomed = await mockChannel(env.t, 'telegram', mocks.telegram);
    expect((await postWebhook('telegram', env.hookUrl(doomed), body)).status).toBe(200);
    expect((await env.t.api('DELETE', `/api/v1/channels/${doomed}`)).status).toBe(204);
    expect((await postWebhook('telegram', env.hookUrl(doomed), memberPayload('telegram', userId('telegram', 41), nextKey()))).status).toBe(404);
  });

  it('needs no API key, keeps signatures over the raw bytes and limits the body to 1 MiB', async () => {
    // Whitespace and key order are kept exactly as signed (a re-serialized body would not verify).
    const raw = `{ "update_id" : ${nextKey()},\n  "message": {"message_id": 1, "chat": {"id": ${userId('telegram', 50)}, "type": "private", "first_name": "Raw"}, "date": 1700000000, "text": "hi"} }`;
    const line = `{"destination":"U1",  "events":[{"type":"follow","webhookEventId":"01HRAW${nextKey()}","timestamp":1,"source":{"type":"user","userId":"${userId('line', 50)}"}}]}`;
    expect((await postWebhook('telegram', url('telegram'), raw)).status).toBe(200);
    expect((await postWebhook('line', url('line'), line)).status).toBe(200);
    expect(await identityOf(env.t, channels.line, userId('line', 50))).not.toBeNull();
    const big = JSON.stringify({ object: 'page', entry: [], pad: 'x'.repeat(1024 * 1024) });
    const res = await fetch(url('messenger'), { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(MOCK_CREDENTIALS.messenger.appSecret, big) }, body: big });
    expect(res.status).toBe(413);
  });

  it('lists the webhook routes in the OpenAPI document', async () => {
    const doc = (await env.t.api('GET', '/api/v1/openapi.json')).body;
    expect(Object.keys(doc.paths['/webhooks/{channelId}']).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/webhooks/{channelId}'].post.security).toEqual([]);
  });
});
