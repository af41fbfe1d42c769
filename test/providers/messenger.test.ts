import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyMessengerError, messengerAdapter } from '../../src/providers/messenger/messenger-adapter.ts';
import { messengerWebhook } from '../../src/providers/messenger/messenger-webhook.ts';
import type { RenderedMessage } from '../../src/providers/types.ts';
import { startMockProvider, type MockProvider } from '../mock-providers/index.ts';
import { startWebhookSink } from './webhook-sink.ts';

const text: RenderedMessage = { type: 'text', text: 'Your order shipped' };
let mock: MockProvider;

const send = (providerUserId: string, message: RenderedMessage = text, settings: Record<string, unknown> = {}) =>
  messengerAdapter.send({ channel: mock.channel(settings), providerUserId, message, idempotencyKey: randomUUID() });

beforeAll(async () => {
  mock = await startMockProvider('messenger');
});
afterAll(() => mock.close());
beforeEach(() => {
  mock.reset();
  mock.configure({ rateLimitPerSecond: 0, latencyMs: 0, authExpired: false, failNext: 0, webhookUrl: undefined });
});

describe('messenger adapter: sending', () => {
  it('sends a tagged text (MESSAGE_TAG / ACCOUNT_UPDATE by default) and returns message_id', async () => {
    const outcome = await send('psid-1');
    expect(outcome.ok && outcome.providerMessageId).toMatch(/^m_/);
    expect(mock.received[0]).toMatchObject({ recipient: 'psid-1', text: 'Your order shipped' });
    expect(mock.received[0].message).toEqual({ recipient: { id: 'psid-1' }, messaging_type: 'MESSAGE_TAG', tag: 'ACCOUNT_UPDATE', message: { text: 'Your order shipped' } });
  });

  it('takes messaging_type and tag from settings and sends images as attachments', async () => {
    expect((await send('psid-2', { type: 'image', url: 'https://example.com/i.png' }, { messagingType: 'MESSAGE_TAG', messageTag: 'POST_PURCHASE_UPDATE' })).ok).toBe(true);
    expect(mock.received[0].message).toEqual({
      recipient: { id: 'psid-2' },
      messaging_type: 'MESSAGE_TAG',
      tag: 'POST_PURCHASE_UPDATE',
      message: { attachment: { type: 'image', payload: { url: 'https://example.com/i.png', is_reusable: true } } },
    });
    expect((await send('psid-3', text, { messagingType: 'RESPONSE' })).ok).toBe(true);
    expect(mock.received[1].message).toEqual({ recipient: { id: 'psid-3' }, messaging_type: 'RESPONSE', message: { text: 'Your order shipped' } });
  });

  it.each([
    ['fail-1', 'invalid_recipient', '100/2018001', 'No matching user found'],
    ['block-1', 'recipient_blocked', '551/1545041', "isn't available right now"],
    ['reject-1', 'content_rejected', '10/2018278', 'outside of allowed window'],
    ['transient-1', 'transient', '1200', 'Temporary send message failure'],
  ])('maps %s to %s', async (user, errorClass, code, message) => {
    expect(await send(user)).toMatchObject({ ok: false, errorClass, code, message: expect.stringContaining(message) });
  });

  it('maps an expired page token to channel_auth', async () => {
    mock.configure({ authExpired: true });
    expect(await send('psid-1')).toMatchObject({ ok: false, errorClass: 'channel_auth', code: '190/463' });
  });

  it('maps the 613 throttle to rate_limited', async () => {
    mock.configure({ rateLimitPerSecond: 1 });
    const outcomes = await Promise.all([1, 2, 3, 4].map((i) => send(`psid-${i}`)));
    expect(outcomes.find((o) => !o.ok)).toMatchObject({ errorClass: 'rate_limited', code: '613', message: expect.stringContaining('exceeded the rate limit') });
  });

  it('times out as transient/timeout', async () => {
    mock.configure({ latencyMs: 300 });
    expect(await send('psid-1', text, { timeoutMs: 80 })).toMatchObject({ ok: false, errorClass: 'transient', code: 'timeout' });
  });

  it('classifies every documented code', () => {
    expect(classifyMessengerError({ code: 190, subcode: null })).toBe('channel_auth');
    expect(classifyMessengerError({ code: 4, subcode: null })).toBe('rate_limited');
    expect(classifyMessengerError({ code: 613, subcode: null })).toBe('rate_limited');
    expect(classifyMessengerError({ code: 100, subcode: 2018001 })).toBe('invalid_recipient');
    expect(classifyMessengerError({ code: 551, subcode: null })).toBe('recipient_blocked');
    expect(classifyMessengerError({ code: 10, subcode: 2018278 })).toBe('content_rejected');
    expect(classifyMessengerError({ code: 1200, subcode: null })).toBe('transient');
    expect(classifyMessengerError({ code: 2, subcode: null })).toBe('transient');
  });

  it('validates limits (no captions) and credentials', () => {
    expect(messengerAdapter.validateMessage({ type: 'text', text: 'x'.repeat(2000) })).toEqual([]);
    expect(messengerAdapter.validateMessage({ type: 'text', text: 'x'.repeat(2001) })).toHaveLength(1);
    expect(messengerAdapter.validateMessage({ type: 'image', url: 'https://e.com/a.png', caption: 'hi' })).toHaveLength(1);
    expect(messengerAdapter.validateCredentials({ pageAccessToken: 'x' })).toEqual([expect.stringContaining('pageId')]);
  });

  it('tests the connection with GET /{v}/{page-id}?fields=name', async () => {
    expect(await messengerAdapter.testConnection(mock.channel())).toEqual({ ok: true, details: { id: mock.credentials.pageId, name: 'Herald Mock Page' } });
    mock.configure({ authExpired: true });
    expect(await messengerAdapter.testConnection(mock.channel())).toMatchObject({ ok: false, errorClass: 'channel_auth' });
  });
});

describe('messenger webhooks', () => {
  const appSecret = 'messenger-secret';
  const page = (messaging: unknown[]) => Buffer.from(JSON.stringify({ object: 'page', entry: [{ id: 'PAGE', time: 1, messaging }] }));

  it('verifies X-Hub-Signature-256 and the handshake', () => {
    const rawBody = page([]);
    const sig = `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
    expect(messengerWebhook.verify({ headers: { 'x-hub-signature-256': sig }, rawBody, url: '', credentials: { appSecret } })).toBe(true);
    expect(messengerWebhook.verify({ headers: { 'x-hub-signature-256': sig }, rawBody: page([{}]), url: '', credentials: { appSecret } })).toBe(false);
    expect(messengerWebhook.verify({ headers: { 'x-hub-signature-256': 'sha1=abc' }, rawBody, url: '', credentials: { appSecret } })).toBe(false);
    expect(messengerWebhook.handshake!({ 'hub.mode': 'subscribe', 'hub.verify_token': 'v', 'hub.challenge': 'c' }, { verifyToken: 'v' })).toEqual({ ok: true, challenge: 'c' });
  });

  it('parses messages, deliveries, read watermarks and notification opt-ins/outs', () => {
    const events = messengerWebhook.parse({
      headers: {},
      url: '',
      rawBody: page([
        { sender: { id: 'P1' }, recipient: { id: 'PAGE' }, timestamp: 10, message: { mid: 'm_in', text: 'hi' } },
        { sender: { id: 'PAGE' }, recipient: { id: 'P1' }, timestamp: 11, message: { mid: 'm_echo', is_echo: true, text: 'x' } },
        { sender: { id: 'P1' }, recipient: { id: 'PAGE' }, timestamp: 12, delivery: { mids: ['m_a', 'm_b'], watermark: 1458668856253 } },
        { sender: { id: 'P1' }, recipient: { id: 'PAGE' }, timestamp: 13, read: { watermark: 1458668856999 } },
        { sender: { id: 'P2' }, recipient: { id: 'PAGE' }, timestamp: 14, optin: { type: 'notification_messages', notification_messages_status: 'STOP_NOTIFICATIONS' } },
        { sender: { id: 'P3' }, recipient: { id: 'PAGE' }, timestamp: 15, optin: { type: 'notification_messages', notification_messages_token: 'tok' } },
      ]),
    });
    expect(events).toEqual([
      { kind: 'member', providerUserId: 'P1', dedupeKey: 'messenger:message:m_in' },
      { kind: 'receipt', providerMessageId: 'm_a', status: 'delivered', at: 1458668856253, dedupeKey: 'messenger:delivery:m_a' },
      { kind: 'receipt', providerMessageId: 'm_b', status: 'delivered', at: 1458668856253, dedupeKey: 'messenger:delivery:m_b' },
      { kind: 'read_watermark', providerUserId: 'P1', watermark: 1458668856999, dedupeKey: 'messenger:read:P1:1458668856999' },
      { kind: 'opt_out', providerUserId: 'P2', dedupeKey: 'messenger:optin:P2:14' },
      { kind: 'opt_in', providerUserId: 'P3', dedupeKey: 'messenger:optin:P3:15' },
    ]);
  });

  it('end to end: the mock posts a signed delivery webhook for an accepted message', async () => {
    const sink = await startWebhookSink();
    try {
      mock.configure({ webhookUrl: sink.url, webhookDelayMs: 5 });
      const outcome = await send('psid-9');
      const [hook] = await sink.waitFor(1);
      expect(messengerWebhook.verify({ ...hook, credentials: mock.credentials })).toBe(true);
      expect(messengerWebhook.parse(hook)).toEqual([expect.objectContaining({ kind: 'receipt', status: 'delivered', providerMessageId: outcome.ok ? outcome.providerMessageId : '' })]);
    } finally {
      await sink.close();
    }
  });
});
