import { randomUUID } from 'node:crypto';
import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyTwilioError, twilioAdapter } from '../../src/providers/twilio/twilio-adapter.ts';
import { parseForm, signTwilioRequest, twilioWebhook } from '../../src/providers/twilio/twilio-webhook.ts';
import { WebhookParseError } from '../../src/providers/webhook-types.ts';
import type { RenderedMessage } from '../../src/providers/types.ts';
import { startMockProvider, type MockProvider } from '../mock-providers/index.ts';
import { startWebhookSink } from './webhook-sink.ts';

const text: RenderedMessage = { type: 'text', text: 'Your code is 1234' };
let mock: MockProvider;

const send = (providerUserId: string, message: RenderedMessage = text, settings: Record<string, unknown> = {}) =>
  twilioAdapter.send({ channel: mock.channel(settings), providerUserId, message, idempotencyKey: randomUUID() });

beforeAll(async () => {
  mock = await startMockProvider('twilio');
});
afterAll(() => mock.close());
beforeEach(() => {
  mock.reset();
  mock.configure({ rateLimitPerSecond: 0, latencyMs: 0, authExpired: false, failNext: 0 });
});

describe('twilio adapter: sending', () => {
  it('posts a form with Basic auth and returns the SM sid', async () => {
    const outcome = await send('+15551230001');
    expect(outcome.ok && outcome.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(mock.received[0].message).toEqual({ To: '+15551230001', From: mock.credentials.from, Body: 'Your code is 1234' });
  });

  it('sends MMS with MediaUrl, and uses MessagingServiceSid and StatusCallback when configured', async () => {
    const channel = mock.channel({ statusCallbackUrl: 'http://127.0.0.1:9/never-called' });
    channel.credentials.messagingServiceSid = 'MG00000000000000000000000000000001';
    mock.configure({ webhookDelayMs: 60_000 }); // keep the callbacks from firing during this test
    const outcome = await twilioAdapter.send({ channel, providerUserId: '+15551230002', message: { type: 'image', url: 'https://e.com/a.jpg', caption: 'Hi' }, idempotencyKey: 'k' });
    expect(outcome.ok).toBe(true);
    expect(mock.received[0].message).toEqual({
      To: '+15551230002', MessagingServiceSid: 'MG00000000000000000000000000000001', MediaUrl: 'https://e.com/a.jpg', Body: 'Hi', StatusCallback: 'http://127.0.0.1:9/never-called',
    });
    mock.configure({ webhookDelayMs: 20 });
  });

  it.each([
    ['fail-1', 'invalid_recipient', '21211', "The 'To' number fail-1 is not a valid phone number."],
    ['block-1', 'recipient_blocked', '21610', 'Attempt to send to unsubscribed recipient'],
    ['reject-1', 'content_rejected', '21617', 'exceeds the 1600 character limit'],
    ['transient-1', 'transient', '20500', 'Internal Server Error'],
  ])('maps %s to %s', async (user, errorClass, code, message) => {
    expect(await send(user)).toMatchObject({ ok: false, errorClass, code, message: expect.stringContaining(message) });
  });

  it('maps 20003 to channel_auth and 20429 to rate_limited', async () => {
    mock.configure({ authExpired: true });
    expect(await send('+1555')).toEqual({ ok: false, errorClass: 'channel_auth', code: '20003', message: 'Authenticate' });
    mock.configure({ authExpired: false, rateLimitPerSecond: 1 });
    const outcomes = await Promise.all([1, 2, 3, 4].map((i) => send(`+1555000${i}`)));
    expect(outcomes.find((o) => !o.ok)).toEqual({ ok: false, errorClass: 'rate_limited', code: '20429', message: 'Too Many Requests' });
  });

  it('classifies every documented code', () => {
    for (const code of [21211, 21614, 21612]) expect(classifyTwilioError(400, code)).toBe('invalid_recipient');
    expect(classifyTwilioError(400, 21610)).toBe('recipient_blocked');
    expect(classifyTwilioError(401, 20003)).toBe('channel_auth');
    expect(classifyTwilioError(429, 20429)).toBe('rate_limited');
    expect(classifyTwilioError(400, 21611)).toBe('rate_limited');
    expect(classifyTwilioError(503, null)).toBe('transient');
  });

  it('times out as transient/timeout', async () => {
    mock.configure({ latencyMs: 300 });
    expect(await send('+1555', text, { timeoutMs: 80 })).toMatchObject({ ok: false, errorClass: 'transient', code: 'timeout' });
  });

  it('validates the body limit and the sender requirement', () => {
    expect(twilioAdapter.validateMessage({ type: 'text', text: 'x'.repeat(1600) })).toEqual([]);
    expect(twilioAdapter.validateMessage({ type: 'text', text: 'x'.repeat(1601) })).toHaveLength(1);
    expect(twilioAdapter.validateCredentials({ accountSid: 'AC1', authToken: 't' })).toEqual([expect.stringContaining('from or credentials.messagingServiceSid')]);
    expect(twilioAdapter.validateCredentials({ accountSid: 'AC1', authToken: 't', messagingServiceSid: 'MG1' })).toEqual([]);
  });

  it('tests the connection with GET /Accounts/{sid}.json', async () => {
    expect(await twilioAdapter.testConnection(mock.channel())).toMatchObject({ ok: true, details: { status: 'active' } });
    mock.configure({ authExpired: true });
    expect(await twilioAdapter.testConnection(mock.channel())).toMatchObject({ ok: false, errorClass: 'channel_auth', code: '20003' });
  });
});

describe('twilio webhooks', () => {
  const authToken = 'twilio-auth-token';
  const url = 'https://herald.example.com/webhooks/twilio/ch1?source=sms';
  const params = { MessageSid: 'SM1', MessageStatus: 'delivered', To: '+15551230001', From: '+15005550006', AccountSid: 'AC1' };
  const rawBody = Buffer.from(new URLSearchParams(params).toString());

  it('agrees with twilio.getExpectedTwilioSignature and validateRequest', () => {
    const official = twilio.getExpectedTwilioSignature(authToken, url, params);
    expect(signTwilioRequest(authToken, url, params)).toBe(official);
    expect(twilio.validateRequest(authToken, signTwilioRequest(authToken, url, parseForm(rawBody)), url, params)).toBe(true);
    expect(twilioWebhook.verify({ headers: { 'X-Twilio-Signature': official }, rawBody, url, credentials: { authToken } })).toBe(true);
    // Signed for another URL or with another token: refused by both.
    const other = twilio.getExpectedTwilioSignature(authToken, `${url}&x=1`, params);
    expect(twilioWebhook.verify({ headers: { 'x-twilio-signature': other }, rawBody, url, credentials: { authToken } })).toBe(false);
    expect(twilioWebhook.verify({ headers: { 'x-twilio-signature': official }, rawBody, url, credentials: { authToken: 'nope' } })).toBe(false);
    expect(twilioWebhook.verify({ headers: {}, rawBody, url, credentials: { authToken } })).toBe(false);
  });

  it('matches the official signature for repeated params and a default port', () => {
    const multi = { Body: 'hi', MediaUrl: ['https://b/2.jpg', 'https://a/1.jpg'], From: '+1', MessageSid: 'MM1' };
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(multi)) for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
    const body = Buffer.from(form.toString());
    expect(signTwilioRequest(authToken, url, parseForm(body))).toBe(twilio.getExpectedTwilioSignature(authToken, url, multi));
    const withPort = 'https://herald.example.com:443/webhooks/twilio/ch1?source=sms';
    const signedWithPort = twilio.getExpectedTwilioSignature(authToken, withPort, multi);
    expect(twilio.validateRequest(authToken, signedWithPort, url, multi)).toBe(true);
    expect(twilioWebhook.verify({ headers: { 'x-twilio-signature': signedWithPort }, rawBody: body, url, credentials: { authToken } })).toBe(true);
  });

  const parse = (p: Record<string, string>) => twilioWebhook.parse({ headers: {}, rawBody: Buffer.from(new URLSearchParams(p).toString()), url, receivedAt: 1700000000000 });

  it('parses status callbacks into receipts, skipping queued/sent', () => {
    expect(parse(params)).toEqual([{ kind: 'receipt', providerMessageId: 'SM1', status: 'delivered', at: 1700000000000, dedupeKey: 'twilio:SM1:delivered' }]);
    expect(parse({ ...params, MessageStatus: 'undelivered', ErrorCode: '30003' })).toEqual([
      { kind: 'receipt', providerMessageId: 'SM1', status: 'failed', at: 1700000000000, errorCode: '30003', errorClass: 'invalid_recipient', dedupeKey: 'twilio:SM1:undelivered' },
    ]);
    expect(parse({ ...params, MessageStatus: 'sent' })).toEqual([]);
    expect(parse({ ...params, MessageStatus: 'read' })[0]).toMatchObject({ status: 'read' });
  });

  it('parses inbound STOP/START keywords and ordinary messages', () => {
    const inbound = (Body: string, MessageSid = 'SMin') => parse({ MessageSid, SmsStatus: 'received', From: '+15551234567', To: '+15005550006', Body });
    for (const word of ['STOP', 'stopall', ' Unsubscribe ', 'CANCEL', 'END', 'QUIT']) {
      expect(inbound(word)).toEqual([{ kind: 'opt_out', providerUserId: '+15551234567', dedupeKey: 'twilio:SMin' }]);
    }
    expect(inbound('START')).toEqual([
      { kind: 'member', providerUserId: '+15551234567', dedupeKey: 'twilio:SMin:member' },
      { kind: 'opt_in', providerUserId: '+15551234567', dedupeKey: 'twilio:SMin:opt_in' },
    ]);
    expect(inbound('stop sending me deals')).toEqual([{ kind: 'member', providerUserId: '+15551234567', dedupeKey: 'twilio:SMin:member' }]);
    expect(() => parse({ Body: 'x' })).toThrow(WebhookParseError);
  });

  it('end to end: StatusCallback posts signed sent/delivered callbacks Herald verifies', async () => {
    const sink = await startWebhookSink();
    try {
      const callbackUrl = `${sink.url}?channel=c1`;
      const outcome = await send('+15551230009', text, { statusCallbackUrl: callbackUrl });
      const hooks = await sink.waitFor(2);
      for (const hook of hooks) {
        expect(hook.url).toBe(callbackUrl);
        expect(twilio.validateRequest(mock.credentials.authToken, String(hook.headers['x-twilio-signature']), hook.url, Object.fromEntries(new URLSearchParams(hook.rawBody.toString())))).toBe(true);
        expect(twilioWebhook.verify({ ...hook, credentials: mock.credentials })).toBe(true);
      }
      const events = hooks.flatMap((h) => twilioWebhook.parse(h));
      expect(events).toEqual([expect.objectContaining({ kind: 'receipt', status: 'delivered', providerMessageId: outcome.ok ? outcome.providerMessageId : '' })]);
    } finally {
      await sink.close();
    }
  });
});
