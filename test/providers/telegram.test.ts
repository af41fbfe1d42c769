import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyTelegramError, telegramAdapter } from '../../src/providers/telegram/telegram-adapter.ts';
import { telegramWebhook } from '../../src/providers/telegram/telegram-webhook.ts';
import { WebhookParseError } from '../../src/providers/webhook-types.ts';
import type { RenderedMessage } from '../../src/providers/types.ts';
import { startMockProvider, type MockProvider } from '../mock-providers/index.ts';
import { startWebhookSink } from './webhook-sink.ts';

const text: RenderedMessage = { type: 'text', text: 'Hello Telegram' };
let mock: MockProvider;

const send = (providerUserId: string, message: RenderedMessage = text, settings: Record<string, unknown> = {}) =>
  telegramAdapter.send({ channel: mock.channel(settings), providerUserId, message, idempotencyKey: randomUUID() });

beforeAll(async () => {
  mock = await startMockProvider('telegram');
});
afterAll(() => mock.close());
beforeEach(() => {
  mock.reset();
  mock.configure({ rateLimitPerSecond: 0, latencyMs: 0, authExpired: false, failNext: 0 });
});

describe('telegram adapter: sending', () => {
  it('sends a text with sendMessage; the id is chat:message_id', async () => {
    expect(await send('123456789')).toEqual({ ok: true, providerMessageId: '123456789:1' });
    expect(mock.received[0].message).toEqual({ chat_id: 123456789, text: 'Hello Telegram' });
  });

  it('sends an image with sendPhoto and a caption', async () => {
    expect((await send('-1001234', { type: 'image', url: 'https://example.com/p.jpg', caption: 'Menu' })).ok).toBe(true);
    expect(mock.received[0].message).toEqual({ chat_id: -1001234, photo: 'https://example.com/p.jpg', caption: 'Menu' });
  });

  it.each([
    ['fail-1', 'invalid_recipient', '400', 'Bad Request: chat not found'],
    ['block-1', 'recipient_blocked', '403', 'Forbidden: bot was blocked by the user'],
    ['reject-1', 'content_rejected', '400', "Bad Request: can't parse entities"],
    ['transient-1', 'transient', '500', 'Internal Server Error'],
  ])('maps %s to %s keeping the description', async (user, errorClass, code, message) => {
    expect(await send(user)).toMatchObject({ ok: false, errorClass, code, message: expect.stringContaining(message) });
  });

  it('maps a bad token to channel_auth (401) and a malformed token path (404) too', async () => {
    mock.configure({ authExpired: true });
    expect(await send('1')).toMatchObject({ ok: false, errorClass: 'channel_auth', code: '401', message: 'Unauthorized' });
    mock.configure({ authExpired: false });
    const channel = mock.channel();
    channel.credentials.botToken = 'bad/token';
    expect(await telegramAdapter.send({ channel, providerUserId: '1', message: text, idempotencyKey: 'k' })).toMatchObject({ errorClass: 'channel_auth', code: '404' });
  });

  it('honours parameters.retry_after on 429', async () => {
    mock.configure({ rateLimitPerSecond: 1 });
    const outcomes = await Promise.all([1, 2, 3, 4].map((i) => send(String(i))));
    const limited = outcomes.find((o) => !o.ok);
    expect(limited).toMatchObject({ ok: false, errorClass: 'rate_limited', code: '429', message: expect.stringMatching(/^Too Many Requests: retry after \d+$/) });
    expect(limited && !limited.ok && limited.retryAfterMs).toBeGreaterThanOrEqual(1000);
  });

  it('times out as transient/timeout and reports injected 5xx as transient', async () => {
    mock.configure({ latencyMs: 300 });
    expect(await send('1', text, { timeoutMs: 80 })).toMatchObject({ ok: false, errorClass: 'transient', code: 'timeout' });
    mock.configure({ latencyMs: 0, failNext: 1 });
    expect(await send('1')).toMatchObject({ ok: false, errorClass: 'transient', code: '500' });
  });

  it('classifies every documented answer', () => {
    expect(classifyTelegramError(429, 'Too Many Requests: retry after 5')).toBe('rate_limited');
    expect(classifyTelegramError(403, 'Forbidden: bot was blocked by the user')).toBe('recipient_blocked');
    expect(classifyTelegramError(403, 'Forbidden: user is deactivated')).toBe('recipient_blocked');
    expect(classifyTelegramError(400, 'Bad Request: chat not found')).toBe('invalid_recipient');
    expect(classifyTelegramError(400, 'Bad Request: message is too long')).toBe('content_rejected');
    expect(classifyTelegramError(401, 'Unauthorized')).toBe('channel_auth');
    expect(classifyTelegramError(404, 'Not Found')).toBe('channel_auth');
    expect(classifyTelegramError(502, 'Bad Gateway')).toBe('transient');
  });

  it('refuses templates and validates limits and credentials', async () => {
    expect(await send('1', { type: 'template', template: { name: 't', language: 'en', components: [] } })).toMatchObject({ errorClass: 'content_rejected', code: 'unsupported' });
    expect(telegramAdapter.validateMessage({ type: 'text', text: 'x'.repeat(4097) })).toHaveLength(1);
    expect(telegramAdapter.validateMessage({ type: 'image', url: 'https://e.com/a.png', caption: 'x'.repeat(1025) })).toHaveLength(1);
    expect(telegramAdapter.validateMessage({ type: 'image', url: 'https://e.com/a.png', caption: 'x'.repeat(1024) })).toEqual([]);
    expect(telegramAdapter.validateCredentials({})).toEqual([expect.stringContaining('botToken')]);
  });

  it('tests the connection with getMe', async () => {
    expect(await telegramAdapter.testConnection(mock.channel())).toMatchObject({ ok: true, details: { username: 'herald_mock_bot' } });
    mock.configure({ authExpired: true });
    expect(await telegramAdapter.testConnection(mock.channel())).toMatchObject({ ok: false, errorClass: 'channel_auth', code: '401' });
  });
});

describe('telegram webhooks', () => {
  const credentials = { botToken: 't', webhookSecret: 's3cret-token' };
  const rawBody = Buffer.from('{"update_id":1}');

  it('verifies X-Telegram-Bot-Api-Secret-Token', () => {
    expect(telegramWebhook.verify({ headers: { 'X-Telegram-Bot-Api-Secret-Token': 's3cret-token' }, rawBody, url: '', credentials })).toBe(true);
    expect(telegramWebhook.verify({ headers: { 'x-telegram-bot-api-secret-token': 's3cret-tokeN' }, rawBody, url: '', credentials })).toBe(false);
    expect(telegramWebhook.verify({ headers: {}, rawBody, url: '', credentials })).toBe(false);
    expect(telegramWebhook.verify({ headers: { 'x-telegram-bot-api-secret-token': '' }, rawBody, url: '', credentials: { botToken: 't' } })).toBe(false);
  });

  const parse = (update: unknown) => telegramWebhook.parse({ headers: {}, rawBody: Buffer.from(JSON.stringify(update)), url: '' });
  const status = (old: string, now: string) => ({ chat: { id: 42, type: 'private' }, from: { id: 42 }, date: 1, old_chat_member: { status: old, user: { id: 9 } }, new_chat_member: { status: now, user: { id: 9 } } });

  it('parses messages, blocks and unblocks', () => {
    expect(parse({ update_id: 10, message: { message_id: 1, chat: { id: 42, type: 'private', first_name: 'Ann', last_name: 'Lee' }, text: '/start' } })).toEqual([
      { kind: 'member', providerUserId: '42', name: 'Ann Lee', dedupeKey: 'telegram:10' },
    ]);
    expect(parse({ update_id: 11, my_chat_member: status('member', 'kicked') })).toEqual([{ kind: 'opt_out', providerUserId: '42', dedupeKey: 'telegram:11' }]);
    expect(parse({ update_id: 12, my_chat_member: status('kicked', 'member') })).toEqual([{ kind: 'opt_in', providerUserId: '42', dedupeKey: 'telegram:12' }]);
    expect(parse({ update_id: 13, edited_message: { chat: { id: 1 } } })).toEqual([]);
    expect(() => parse({ message: {} })).toThrow(WebhookParseError);
  });

  it('end to end: the mock sends the secret header Herald checks', async () => {
    const sink = await startWebhookSink();
    try {
      await mock.sendWebhook(sink.url, { update_id: 99, my_chat_member: status('member', 'kicked') });
      const [hook] = await sink.waitFor(1);
      expect(telegramWebhook.verify({ ...hook, credentials: mock.credentials })).toBe(true);
      expect(telegramWebhook.parse(hook)).toEqual([{ kind: 'opt_out', providerUserId: '42', dedupeKey: 'telegram:99' }]);
    } finally {
      await sink.close();
    }
  });
});
