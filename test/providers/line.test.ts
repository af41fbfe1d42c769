import { createHmac, randomUUID } from 'node:crypto';
import { validateSignature } from '@line/bot-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyLineError, lineAdapter, lineRetryKey } from '../../src/providers/line/line-adapter.ts';
import { lineWebhook, signLineBody } from '../../src/providers/line/line-webhook.ts';
import type { RenderedMessage } from '../../src/providers/types.ts';
import { startMockProvider, type MockProvider } from '../mock-providers/index.ts';
import { startWebhookSink } from './webhook-sink.ts';

const text: RenderedMessage = { type: 'text', text: 'Hello LINE' };
let mock: MockProvider;

const send = (providerUserId: string, message: RenderedMessage = text, idempotencyKey = randomUUID(), settings: Record<string, unknown> = {}) =>
  lineAdapter.send({ channel: mock.channel(settings), providerUserId, message, idempotencyKey });

beforeAll(async () => {
  mock = await startMockProvider('line');
});
afterAll(() => mock.close());
beforeEach(() => {
  mock.reset();
  mock.configure({ rateLimitPerSecond: 0, latencyMs: 0, authExpired: false, failNext: 0 });
});

describe('line adapter: push and multicast', () => {
  it('pushes a text with the retry key header and returns sentMessages[0].id', async () => {
    const key = randomUUID();
    const outcome = await send('U1', text, key);
    expect(outcome.ok && outcome.providerMessageId).toMatch(/^\d+$/);
    expect(mock.received).toEqual([expect.objectContaining({ recipient: 'U1', text: 'Hello LINE', retryKey: key, delivered: true })]);
    expect(mock.received[0].message).toEqual([{ type: 'text', text: 'Hello LINE' }]);
  });

  it('pushes an image with previewImageUrl = url and the caption as a second message', async () => {
    expect((await send('U2', { type: 'image', url: 'https://example.com/p.jpg', caption: 'New menu' })).ok).toBe(true);
    expect(mock.received[0].message).toEqual([
      { type: 'image', originalContentUrl: 'https://example.com/p.jpg', previewImageUrl: 'https://example.com/p.jpg' },
      { type: 'text', text: 'New menu' },
    ]);
  });

  it('counts a retried key as accepted once (409 → ok) and never delivers twice', async () => {
    const key = randomUUID();
    const first = await send('U3', text, key);
    const second = await send('U3', text, key);
    expect(first.ok).toBe(true);
    expect(second).toEqual({ ok: true, providerMessageId: expect.any(String) });
    expect(mock.received).toHaveLength(1);
  });

  it('multicasts a batch in one request with the same retry key', async () => {
    const users = Array.from({ length: 500 }, (_, i) => `U${i}`);
    const key = randomUUID();
    const batch = { channel: mock.channel(), providerUserIds: users, message: text, idempotencyKey: key };
    const outcome = await lineAdapter.sendBatch!(batch);
    expect(outcome).toEqual({ ok: true, providerMessageId: expect.any(String) });
    expect(mock.requestCount).toBe(1);
    expect(mock.received).toHaveLength(500);
    expect(new Set(mock.received.map((r) => r.retryKey))).toEqual(new Set([key]));
    expect((await lineAdapter.sendBatch!(batch)).ok).toBe(true);
    expect(mock.received).toHaveLength(500);
    expect(lineAdapter.maxBatchSize).toBe(500);
    expect(await lineAdapter.sendBatch!({ ...batch, providerUserIds: [...users, 'U500'] })).toMatchObject({ ok: false, code: 'batch_size' });
  });

  it('turns a non-UUID idempotency key into a stable UUID', () => {
    const a = lineRetryKey('campaign-1:recipient-2');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(lineRetryKey('campaign-1:recipient-2')).toBe(a);
    const uuid = randomUUID();
    expect(lineRetryKey(uuid)).toBe(uuid);
  });
});

describe('line adapter: failures', () => {
  it.each([
    ['fail-1', 'invalid_recipient', '400', 'Failed to send messages'],
    ['reject-1', 'content_rejected', '400', 'messages[0].text'],
    ['transient-1', 'transient', '500', 'Internal server error'],
  ])('maps %s to %s', async (user, errorClass, code, message) => {
    expect(await send(user)).toMatchObject({ ok: false, errorClass, code, message: expect.stringContaining(message) });
  });

  it('answers 200 for a user who blocked the account, without delivering', async () => {
    expect((await send('block-1')).ok).toBe(true);
    expect(mock.received).toEqual([expect.objectContaining({ recipient: 'block-1', delivered: false })]);
  });

  it('maps 401, 403 and 429 without retry-after', async () => {
    mock.configure({ authExpired: true });
    expect(await send('U1')).toMatchObject({ ok: false, errorClass: 'channel_auth', code: '401', message: expect.stringContaining('Authentication failed') });
    mock.configure({ authExpired: false, rateLimitPerSecond: 1 });
    const outcomes = await Promise.all([1, 2, 3, 4].map((i) => send(`U${i}`)));
    const limited = outcomes.find((o) => !o.ok);
    expect(limited).toEqual({ ok: false, errorClass: 'rate_limited', code: '429', message: 'The API rate limit has been exceeded. Try again later.' });
    expect(classifyLineError(403, { message: 'Access to this API is not available for your account' })).toBe('channel_auth');
    expect(classifyLineError(400, { message: 'Failed to send messages' })).toBe('invalid_recipient');
    expect(classifyLineError(400, { message: 'x', details: [{ property: 'to', message: 'May not be empty' }] })).toBe('invalid_recipient');
    expect(classifyLineError(503, {})).toBe('transient');
  });

  it('a failed attempt does not consume the retry key', async () => {
    const key = randomUUID();
    mock.configure({ failNext: 1 });
    expect(await send('U1', text, key)).toMatchObject({ ok: false, errorClass: 'transient' });
    expect((await send('U1', text, key)).ok).toBe(true);
    expect(mock.received).toHaveLength(1);
  });

  it('times out as transient/timeout', async () => {
    mock.configure({ latencyMs: 300 });
    expect(await send('U1', text, randomUUID(), { timeoutMs: 80 })).toMatchObject({ ok: false, errorClass: 'transient', code: 'timeout' });
  });

  it('refuses templates and validates limits and credentials', async () => {
    expect(await send('U1', { type: 'template', template: { name: 't', language: 'en', components: [] } })).toMatchObject({ ok: false, errorClass: 'content_rejected', code: 'unsupported' });
    expect(lineAdapter.validateMessage({ type: 'text', text: 'x'.repeat(5000) })).toEqual([]);
    expect(lineAdapter.validateMessage({ type: 'text', text: 'x'.repeat(5001) })).toHaveLength(1);
    expect(lineAdapter.validateMessage({ type: 'image', url: 'http://insecure/a.png' })).toEqual(['LINE only takes https image URLs']);
    expect(lineAdapter.validateMessage({ type: 'template', template: { name: 't', language: 'en', components: [] } })).toHaveLength(1);
    expect(lineAdapter.validateCredentials({})).toHaveLength(2);
  });

  it('tests the connection with GET /v2/bot/info', async () => {
    expect(await lineAdapter.testConnection(mock.channel())).toMatchObject({ ok: true, details: { displayName: 'Herald Mock' } });
    mock.configure({ authExpired: true });
    expect(await lineAdapter.testConnection(mock.channel())).toMatchObject({ ok: false, errorClass: 'channel_auth', code: '401' });
  });
});

describe('line webhooks', () => {
  const channelSecret = 'line-channel-secret';
  const payload = {
    destination: 'Ubot',
    events: [
      { type: 'follow', webhookEventId: '01H0000000000000000000001', timestamp: 1700000000000, source: { type: 'user', userId: 'Ua' }, follow: { isUnblocked: false }, mode: 'active' },
      { type: 'follow', webhookEventId: '01H0000000000000000000002', timestamp: 1700000000001, source: { type: 'user', userId: 'Ub' }, follow: { isUnblocked: true }, mode: 'active' },
      { type: 'unfollow', webhookEventId: '01H0000000000000000000003', timestamp: 1700000000002, source: { type: 'user', userId: 'Uc' }, mode: 'active' },
      { type: 'message', webhookEventId: '01H0000000000000000000004', timestamp: 1700000000003, source: { type: 'user', userId: 'Ud' }, message: { id: '1', type: 'text', text: 'hi' } },
      { type: 'message', webhookEventId: '01H0000000000000000000005', timestamp: 1700000000004, source: { type: 'group', groupId: 'C1', userId: 'Ue' }, message: { id: '2', type: 'text', text: 'hi' } },
    ],
  };
  const rawBody = Buffer.from(JSON.stringify(payload));

  it('agrees with @line/bot-sdk validateSignature', () => {
    const ours = signLineBody(channelSecret, rawBody);
    expect(validateSignature(rawBody, channelSecret, ours)).toBe(true);
    // A signature made independently (as LINE's servers do) passes Herald's check…
    const theirs = createHmac('sha256', channelSecret).update(rawBody).digest('base64');
    expect(validateSignature(rawBody, channelSecret, theirs)).toBe(true);
    expect(lineWebhook.verify({ headers: { 'x-line-signature': theirs }, rawBody, url: 'https://h/line', credentials: { channelSecret } })).toBe(true);
    // …and one the SDK rejects, Herald rejects too.
    const wrong = createHmac('sha256', 'other-secret').update(rawBody).digest('base64');
    expect(validateSignature(rawBody, channelSecret, wrong)).toBe(false);
    expect(lineWebhook.verify({ headers: { 'x-line-signature': wrong }, rawBody, url: 'https://h/line', credentials: { channelSecret } })).toBe(false);
    expect(lineWebhook.verify({ headers: { 'x-line-signature': theirs }, rawBody: Buffer.from(`${rawBody.toString()} `), url: '', credentials: { channelSecret } })).toBe(false);
    expect(lineWebhook.verify({ headers: {}, rawBody, url: '', credentials: { channelSecret } })).toBe(false);
  });

  it('parses follow, unblock, unfollow and message events (users only)', () => {
    expect(lineWebhook.parse({ headers: {}, rawBody, url: '' })).toEqual([
      { kind: 'member', providerUserId: 'Ua', dedupeKey: 'line:01H0000000000000000000001:member' },
      { kind: 'member', providerUserId: 'Ub', dedupeKey: 'line:01H0000000000000000000002:member' },
      { kind: 'opt_in', providerUserId: 'Ub', dedupeKey: 'line:01H0000000000000000000002:opt_in' },
      { kind: 'opt_out', providerUserId: 'Uc', dedupeKey: 'line:01H0000000000000000000003' },
      { kind: 'member', providerUserId: 'Ud', dedupeKey: 'line:01H0000000000000000000004' },
    ]);
  });

  it('end to end: the mock signs a webhook that Herald and the SDK both accept', async () => {
    const sink = await startWebhookSink();
    try {
      await mock.sendWebhook(sink.url, payload);
      const [hook] = await sink.waitFor(1);
      expect(validateSignature(hook.rawBody, mock.credentials.channelSecret, String(hook.headers['x-line-signature']))).toBe(true);
      expect(lineWebhook.verify({ ...hook, credentials: mock.credentials })).toBe(true);
      expect(lineWebhook.parse(hook)).toHaveLength(5);
    } finally {
      await sink.close();
    }
  });
});
