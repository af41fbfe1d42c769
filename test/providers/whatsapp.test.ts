import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyWhatsAppError, whatsappAdapter } from '../../src/providers/whatsapp/whatsapp-adapter.ts';
import { whatsappWebhook } from '../../src/providers/whatsapp/whatsapp-webhook.ts';
import { WebhookParseError } from '../../src/providers/webhook-types.ts';
import type { RenderedMessage } from '../../src/providers/types.ts';
import { startMockProvider, type MockProvider } from '../mock-providers/index.ts';
import { startWebhookSink } from './webhook-sink.ts';

const text: RenderedMessage = { type: 'text', text: 'Hello from Herald' };
let mock: MockProvider;

const send = (providerUserId: string, message: RenderedMessage = text, settings: Record<string, unknown> = {}) =>
  whatsappAdapter.send({ channel: mock.channel(settings), providerUserId, message, idempotencyKey: randomUUID() });

beforeAll(async () => {
  mock = await startMockProvider('whatsapp');
});
afterAll(() => mock.close());
beforeEach(() => {
  mock.reset();
  mock.configure({ rateLimitPerSecond: 0, latencyMs: 0, authExpired: false, failNext: 0, webhookUrl: undefined });
});

describe('whatsapp adapter: sending', () => {
  it('sends a text message in the Cloud API shape and returns messages[0].id', async () => {
    const outcome = await send('16505550001');
    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.ok && outcome.providerMessageId).toMatch(/^wamid\./);
    expect(mock.received).toHaveLength(1);
    expect(mock.received[0].message).toEqual({ messaging_product: 'whatsapp', recipient_type: 'individual', to: '16505550001', type: 'text', text: { preview_url: false, body: 'Hello from Herald' } });
    expect(outcome.ok && outcome.providerMessageId).toBe(mock.received[0].providerMessageId);
  });

  it('sends an image with caption and a template', async () => {
    expect((await send('16505550002', { type: 'image', url: 'https://example.com/a.png', caption: 'Look' })).ok).toBe(true);
    const template = { name: 'order_update', language: 'en_US', components: [{ type: 'body', parameters: [{ type: 'text', text: 'Alice' }] }] };
    expect((await send('16505550003', { type: 'template', template })).ok).toBe(true);
    expect(mock.received.map((r) => r.message)).toEqual([
      expect.objectContaining({ type: 'image', image: { link: 'https://example.com/a.png', caption: 'Look' } }),
      expect.objectContaining({ type: 'template', template: { name: 'order_update', language: { code: 'en_US' }, components: template.components } }),
    ]);
  });

  it.each([
    ['fail-1', 'invalid_recipient', '131026'],
    ['block-1', 'content_rejected', '131049'],
    ['reject-1', 'content_rejected', '131047'],
    ['transient-1', 'transient', '131000'],
  ])('maps recipient %s to %s', async (user, errorClass, code) => {
    const outcome = await send(user);
    expect(outcome).toMatchObject({ ok: false, errorClass, code });
    expect(!outcome.ok && outcome.message.length).toBeGreaterThan(5);
    expect(mock.received).toHaveLength(0);
  });

  it('maps an expired token and a wrong token to channel_auth with the provider message', async () => {
    mock.configure({ authExpired: true });
    expect(await send('16505550001')).toMatchObject({ ok: false, errorClass: 'channel_auth', code: '190/463', message: expect.stringContaining('Session has expired') });
    mock.configure({ authExpired: false });
    const channel = mock.channel();
    channel.credentials.accessToken = 'wrong';
    const outcome = await whatsappAdapter.send({ channel, providerUserId: '1', message: text, idempotencyKey: randomUUID() });
    expect(outcome).toMatchObject({ ok: false, errorClass: 'channel_auth', code: '190' });
  });

  it('maps injected 5xx answers to transient and then succeeds', async () => {
    mock.configure({ failNext: 1 });
    expect(await send('16505550001')).toMatchObject({ ok: false, errorClass: 'transient', code: '131000' });
    expect((await send('16505550001')).ok).toBe(true);
  });

  it('answers the throughput limit with 130429 and no retry-after', async () => {
    mock.configure({ rateLimitPerSecond: 2 });
    // Six calls against 2/s: even split across a window boundary, at least two are refused.
    const outcomes = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => send(`1650555000${i}`)));
    const limited = outcomes.filter((o) => !o.ok);
    expect(limited.length).toBeGreaterThanOrEqual(2);
    expect(limited[0]).toMatchObject({ errorClass: 'rate_limited', code: '130429' });
    expect(limited[0]).not.toHaveProperty('retryAfterMs');
  });

  it('turns a slow answer into transient/timeout', async () => {
    mock.configure({ latencyMs: 1500 });
    const started = Date.now();
    expect(await send('16505550001', text, { timeoutMs: 100 })).toMatchObject({ ok: false, errorClass: 'transient', code: 'timeout' });
    // Gave up at the timeout rather than waiting for the slow answer.
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('reports a refused connection as transient/network', async () => {
    const outcome = await send('16505550001', text, { apiBaseUrl: 'http://127.0.0.1:1' });
    expect(outcome).toMatchObject({ ok: false, errorClass: 'transient', code: 'network' });
  });

  it('maps every documented error code', () => {
    const table: Array<[number, string | null]> = [
      [190, 'channel_auth'], [0, 'channel_auth'], [10, 'channel_auth'], [200, 'channel_auth'], [299, 'channel_auth'],
      [130429, 'rate_limited'], [131056, 'rate_limited'], [80007, 'rate_limited'],
      [131026, 'invalid_recipient'], [100, 'invalid_recipient'],
      [131047, 'content_rejected'], [368, 'content_rejected'], [130497, 'content_rejected'],
      [131049, 'content_rejected'], [131000, 'transient'], [2, 'transient'], [999999, null],
    ];
    for (const [code, expected] of table) expect([code, classifyWhatsAppError({ code })]).toEqual([code, expected]);
  });
});

describe('whatsapp adapter: connection and validation', () => {
  it('tests the connection with GET /{v}/{phone-number-id}', async () => {
    expect(await whatsappAdapter.testConnection(mock.channel())).toMatchObject({ ok: true, details: { verifiedName: 'Herald Mock' } });
    mock.configure({ authExpired: true });
    expect(await whatsappAdapter.testConnection(mock.channel())).toMatchObject({ ok: false, errorClass: 'channel_auth', code: '190/463' });
  });

  it('calls a wrong phone number id a channel problem', async () => {
    const channel = mock.channel();
    channel.credentials.phoneNumberId = '999';
    expect(await whatsappAdapter.testConnection(channel)).toMatchObject({ ok: false, errorClass: 'channel_auth', code: '100/33' });
  });

  it('validates limits and credentials', () => {
    expect(whatsappAdapter.validateMessage({ type: 'text', text: 'x'.repeat(4096) })).toEqual([]);
    expect(whatsappAdapter.validateMessage({ type: 'text', text: 'x'.repeat(4097) })).toHaveLength(1);
    expect(whatsappAdapter.validateMessage({ type: 'image', url: 'https://e.com/a.png', caption: 'x'.repeat(1025) })).toHaveLength(1);
    expect(whatsappAdapter.validateMessage({ type: 'template', template: { name: 't', language: 'en', components: [] } })).toEqual([]);
    expect(whatsappAdapter.validateCredentials({ accessToken: 't' })).toEqual([expect.stringContaining('phoneNumberId')]);
    expect(whatsappAdapter.validateCredentials({ accessToken: 't', phoneNumberId: '1' })).toEqual([]);
  });
});

describe('whatsapp webhooks', () => {
  const appSecret = 'whatsapp-secret';
  const body = Buffer.from(JSON.stringify({ object: 'whatsapp_business_account', entry: [] }));
  const signature = `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
  const input = (headers: Record<string, string>) => ({ headers, rawBody: body, url: 'https://herald.example/webhooks/whatsapp/c1', credentials: { appSecret } });

  it('verifies X-Hub-Signature-256 and refuses bad or missing signatures', () => {
    expect(whatsappWebhook.verify(input({ 'X-Hub-Signature-256': signature }))).toBe(true);
    expect(whatsappWebhook.verify(input({ 'x-hub-signature-256': signature.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }))).toBe(false);
    expect(whatsappWebhook.verify(input({}))).toBe(false);
    expect(whatsappWebhook.verify({ ...input({ 'x-hub-signature-256': signature }), credentials: {} })).toBe(false);
  });

  it('answers the subscription handshake only with the right verify token', () => {
    const creds = { verifyToken: 'vt' };
    expect(whatsappWebhook.handshake!({ 'hub.mode': 'subscribe', 'hub.verify_token': 'vt', 'hub.challenge': '1158201444' }, creds)).toEqual({ ok: true, challenge: '1158201444' });
    expect(whatsappWebhook.handshake!({ 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': '1' }, creds)).toEqual({ ok: false });
    expect(whatsappWebhook.handshake!({ 'hub.mode': 'unsubscribe', 'hub.verify_token': 'vt', 'hub.challenge': '1' }, creds)).toEqual({ ok: false });
  });

  it('parses inbound messages and delivered/read/failed statuses, skipping sent', () => {
    const payload = {
      object: 'whatsapp_business_account',
      entry: [{ id: 'W', changes: [{ field: 'messages', value: {
        messaging_product: 'whatsapp',
        contacts: [{ profile: { name: 'Alice' }, wa_id: '16505551234' }],
        messages: [{ from: '16505551234', id: 'wamid.IN1', timestamp: '1700000000', type: 'text', text: { body: 'hi' } }],
        statuses: [
          { id: 'wamid.A', status: 'sent', timestamp: '1700000001', recipient_id: '1' },
          { id: 'wamid.A', status: 'delivered', timestamp: '1700000002', recipient_id: '1' },
          { id: 'wamid.A', status: 'read', timestamp: '1700000003', recipient_id: '1' },
          { id: 'wamid.B', status: 'failed', timestamp: '1700000004', recipient_id: '2', errors: [{ code: 131026, title: 'Message undeliverable' }] },
        ],
      } }] }],
    };
    const events = whatsappWebhook.parse({ headers: {}, rawBody: Buffer.from(JSON.stringify(payload)), url: '' });
    expect(events).toEqual([
      { kind: 'member', providerUserId: '16505551234', name: 'Alice', dedupeKey: 'whatsapp:message:wamid.IN1' },
      { kind: 'receipt', providerMessageId: 'wamid.A', status: 'delivered', at: 1700000002000, dedupeKey: 'whatsapp:status:wamid.A:delivered' },
      { kind: 'receipt', providerMessageId: 'wamid.A', status: 'read', at: 1700000003000, dedupeKey: 'whatsapp:status:wamid.A:read' },
      { kind: 'receipt', providerMessageId: 'wamid.B', status: 'failed', at: 1700000004000, errorCode: '131026', errorMessage: 'Message undeliverable', errorClass: 'invalid_recipient', dedupeKey: 'whatsapp:status:wamid.B:failed' },
    ]);
  });

  it('rejects bodies that are not WhatsApp webhooks', () => {
    expect(() => whatsappWebhook.parse({ headers: {}, rawBody: Buffer.from('nope'), url: '' })).toThrow(WebhookParseError);
    expect(() => whatsappWebhook.parse({ headers: {}, rawBody: Buffer.from('{"object":"page","entry":[]}'), url: '' })).toThrow(WebhookParseError);
  });

  it('end to end: the mock posts a signed delivered status that Herald verifies and parses', async () => {
    const sink = await startWebhookSink();
    try {
      mock.configure({ webhookUrl: sink.url, webhookDelayMs: 5 });
      const outcome = await send('16505550009');
      const [hook] = await sink.waitFor(1);
      const request = { headers: hook.headers, rawBody: hook.rawBody, url: hook.url };
      expect(whatsappWebhook.verify({ ...request, credentials: mock.credentials })).toBe(true);
      expect(whatsappWebhook.verify({ ...request, credentials: { appSecret: 'other' } })).toBe(false);
      expect(whatsappWebhook.parse(request)).toEqual([expect.objectContaining({ kind: 'receipt', status: 'delivered', providerMessageId: outcome.ok ? outcome.providerMessageId : 'x' })]);
    } finally {
      await sink.close();
    }
  });
});
