import { createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { validateSignature } from '@line/bot-sdk';
import twilio from 'twilio';
import { startHerald, waitFor, type Dialect, type TestHerald } from '../helpers/harness.ts';
import { MOCK_CREDENTIALS, startMockProvider, type MockOptions, type MockProvider, type RealProvider } from '../mock-providers/index.ts';

/**
 * Shared pieces of the webhook tests: a Herald listening on a real port whose public URL is that
 * address (mocks and signed requests must reach it, and Twilio signs the full URL), channels
 * pointing at mock providers, provider-shaped payloads and signatures made with the official
 * libraries where one exists (`@line/bot-sdk`, `twilio`), so a wrong algorithm in Herald fails.
 */

export type SignMode = 'good' | 'bad' | 'none';

export interface WebhookEnv {
  t: TestHerald;
  /** Herald's public base URL, e.g. http://127.0.0.1:41234. */
  base: string;
  hookUrl(channelId: string): string;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startWebhookEnv(dialect: Dialect): Promise<WebhookEnv> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t = await startHerald(dialect, { env: { PORT: String(port), HERALD_PUBLIC_URL: base } });
  await t.herald.app!.listen({ port, host: '127.0.0.1' });
  return { t, base, hookUrl: (id) => `${base}/webhooks/${id}`, close: () => t.close() };
}

/** A channel of `provider` sending to `mock` (fast rate so campaigns finish quickly). */
export async function mockChannel(t: TestHerald, provider: RealProvider, mock: MockProvider, settings: Record<string, unknown> = {}): Promise<string> {
  const res = await t.api('POST', '/api/v1/channels', {
    name: `${provider} mock`, provider, credentials: { ...MOCK_CREDENTIALS[provider] }, rateLimitPerSecond: 200, settings: { apiBaseUrl: mock.url, ...settings },
  });
  if (res.status !== 201) throw new Error(`channel create failed: ${res.status} ${res.text}`);
  return res.body.id;
}

export async function startMocks(providers: readonly RealProvider[], options: MockOptions = {}): Promise<Record<RealProvider, MockProvider>> {
  const out = {} as Record<RealProvider, MockProvider>;
  for (const p of providers) out[p] = await startMockProvider(p, options);
  return out;
}

export const lineSignature = (secret: string, body: string) => {
  const signature = createHmac('sha256', secret).update(body).digest('base64');
  // The SDK's own check must accept what the test sends, so the test signs as LINE does.
  if (!validateSignature(body, secret, signature)) throw new Error('@line/bot-sdk rejects the test signature');
  return signature;
};

export const metaSignature = (appSecret: string, body: string) => `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;

/** Posts a provider webhook to Herald, signed as the provider signs it (or badly, or not at all). */
export async function postWebhook(provider: RealProvider, url: string, payload: unknown, mode: SignMode = 'good'): Promise<{ status: number; text: string }> {
  const creds = MOCK_CREDENTIALS[provider];
  const wrong = (s: string) => `${s}-wrong`;
  const headers: Record<string, string> = {};
  let body: string;
  if (provider === 'twilio') {
    const params = payload as Record<string, string>;
    body = new URLSearchParams(params).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
    if (mode !== 'none') headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(mode === 'good' ? creds.authToken : wrong(creds.authToken), url, params);
  } else {
    body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    headers['content-type'] = 'application/json';
    if (mode !== 'none') {
      if (provider === 'line') headers['x-line-signature'] = lineSignature(mode === 'good' ? creds.channelSecret : wrong(creds.channelSecret), body);
      if (provider === 'telegram') headers['x-telegram-bot-api-secret-token'] = mode === 'good' ? creds.webhookSecret : wrong(creds.webhookSecret);
      if (provider === 'whatsapp' || provider === 'messenger') headers['x-hub-signature-256'] = metaSignature(mode === 'good' ? creds.appSecret : wrong(creds.appSecret), body);
    }
  }
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

const nowSec = () => Math.floor(Date.now() / 1000);

/** A user writes to (or follows) the channel. `key` makes the event unique; `name` where the provider sends one. */
export function memberPayload(provider: RealProvider, user: string, key: number, name?: string): unknown {
  switch (provider) {
    case 'whatsapp':
      return {
        object: 'whatsapp_business_account',
        entry: [{ id: 'WABA_ID', changes: [{ field: 'messages', value: {
          messaging_product: 'whatsapp', metadata: { display_phone_number: '15550100000', phone_number_id: MOCK_CREDENTIALS.whatsapp.phoneNumberId },
          ...(name ? { contacts: [{ profile: { name }, wa_id: user }] } : {}),
          messages: [{ from: user, id: `wamid.in${key}`, timestamp: String(nowSec()), type: 'text', text: { body: 'hello' } }],
        } }] }],
      };
    case 'line':
      return { destination: 'U0000000000000000000000000000mock', events: [{ type: 'follow', mode: 'active', timestamp: Date.now(), webhookEventId: `01HWEBHOOK${key}`, deliveryContext: { isRedelivery: false }, source: { type: 'user', userId: user }, replyToken: `r${key}`, follow: { isUnblocked: false } }] };
    case 'telegram':
      return { update_id: key, message: { message_id: key, from: { id: Number(user), is_bot: false, first_name: name ?? 'x' }, chat: { id: Number(user), type: 'private', ...(name ? { first_name: name } : {}) }, date: nowSec(), text: '/start' } };
    case 'messenger':
      return { object: 'page', entry: [{ id: MOCK_CREDENTIALS.messenger.pageId, time: Date.now(), messaging: [{ sender: { id: user }, recipient: { id: MOCK_CREDENTIALS.messenger.pageId }, timestamp: Date.now(), message: { mid: `m_in${key}`, text: 'hello' } }] }] };
    case 'twilio':
      return twilioInbound(user, key, 'Hello');
  }
}

function twilioInbound(from: string, key: number, body: string, optOutType?: string): Record<string, string> {
  const sid = `SM${String(key).padStart(32, '0')}`;
  return {
    AccountSid: MOCK_CREDENTIALS.twilio.accountSid, ApiVersion: '2010-04-01', Body: body, From: from, MessageSid: sid, NumMedia: '0', NumSegments: '1',
    SmsMessageSid: sid, SmsSid: sid, SmsStatus: 'received', To: MOCK_CREDENTIALS.twilio.from, ...(optOutType ? { OptOutType: optOutType } : {}),
  };
}

function telegramMembership(user: string, key: number, from: string, to: string) {
  const bot = { id: 100000001, is_bot: true, first_name: 'Herald Mock', username: 'herald_mock_bot' };
  return { update_id: key, my_chat_member: { chat: { id: Number(user), type: 'private', first_name: 'T' }, from: { id: Number(user), is_bot: false, first_name: 'T' }, date: nowSec(), old_chat_member: { user: bot, status: from }, new_chat_member: { user: bot, status: to, ...(to === 'kicked' ? { until_date: 0 } : {}) } } };
}

function messengerOptin(user: string, key: number, stop: boolean) {
  const pageId = MOCK_CREDENTIALS.messenger.pageId;
  const optin = { type: 'notification_messages', notification_messages_token: `tok${key}`, notification_messages_frequency: 'DAILY', ...(stop ? { notification_messages_status: 'STOP_NOTIFICATIONS' } : {}) };
  return { object: 'page', entry: [{ id: pageId, time: Date.now(), messaging: [{ sender: { id: user }, recipient: { id: pageId }, timestamp: 1_700_000_000_000 + key, optin }] }] };
}

/** The provider's "this user no longer wants messages" signal; WhatsApp documents none. */
export function optOutPayload(provider: Exclude<RealProvider, 'whatsapp'>, user: string, key: number): unknown {
  switch (provider) {
    case 'line':
      return { destination: 'U0000000000000000000000000000mock', events: [{ type: 'unfollow', mode: 'active', timestamp: Date.now(), webhookEventId: `01HUNFOLLOW${key}`, deliveryContext: { isRedelivery: false }, source: { type: 'user', userId: user } }] };
    case 'telegram':
      return telegramMembership(user, key, 'member', 'kicked');
    case 'messenger':
      return messengerOptin(user, key, true);
    case 'twilio':
      return twilioInbound(user, key, 'STOP', 'STOP');
  }
}

/** The provider's "messages welcome again" signal. */
export function optInPayload(provider: Exclude<RealProvider, 'whatsapp'>, user: string, key: number): unknown {
  switch (provider) {
    case 'line':
      return { destination: 'U0000000000000000000000000000mock', events: [{ type: 'follow', mode: 'active', timestamp: Date.now(), webhookEventId: `01HREFOLLOW${key}`, deliveryContext: { isRedelivery: false }, source: { type: 'user', userId: user }, replyToken: `r${key}`, follow: { isUnblocked: true } }] };
    case 'telegram':
      return telegramMembership(user, key, 'kicked', 'member');
    case 'messenger':
      return messengerOptin(user, key, false);
    case 'twilio':
      return twilioInbound(user, key, 'START', 'START');
  }
}

/** A provider user id in the provider's format. */
export function userId(provider: RealProvider, n: number): string {
  switch (provider) {
    case 'whatsapp':
      return `1555010${String(n).padStart(4, '0')}`;
    case 'line':
      return `U${n.toString(16).padStart(32, 'a')}`;
    case 'telegram':
      return String(700_000_000 + n);
    case 'messenger':
      return String(2_500_000_000_000 + n);
    case 'twilio':
      return `+1555020${String(n).padStart(4, '0')}`;
  }
}

export interface ContactView {
  id: string;
  name: string;
  identities: { channelId: string; providerUserId: string; optedOut: boolean }[];
}

export async function channelContacts(t: TestHerald, channelId: string): Promise<ContactView[]> {
  const res = await t.api('GET', `/api/v1/contacts?channelId=${channelId}&limit=200`);
  if (res.status !== 200) throw new Error(`contacts list failed: ${res.status} ${res.text}`);
  return res.body.items;
}

export async function identityOf(t: TestHerald, channelId: string, user: string) {
  for (const c of await channelContacts(t, channelId)) {
    const identity = c.identities.find((i) => i.channelId === channelId && i.providerUserId === user);
    if (identity) return { contact: c, identity };
  }
  return null;
}

/** Creates a text campaign to every member of the channel, sends it and waits until it is final. */
export async function sendCampaign(t: TestHerald, channelId: string, text = 'Hello {{name|there}}') {
  const created = await t.api('POST', '/api/v1/campaigns', { name: 'webhook test', channelId, message: { type: 'text', text }, audience: { type: 'all' } });
  if (created.status !== 201) throw new Error(`campaign create failed: ${created.status} ${created.text}`);
  const sent = await t.api('POST', `/api/v1/campaigns/${created.body.id}/send`);
  if (sent.status !== 200) throw new Error(`campaign send failed: ${sent.status} ${sent.text}`);
  return waitFor(async () => {
    const c = (await t.api('GET', `/api/v1/campaigns/${created.body.id}`)).body;
    return ['sent', 'failed', 'partial'].includes(c.status) ? c : null;
  }, 20_000, 'campaign to finish');
}

export async function recipientsOf(t: TestHerald, campaignId: string): Promise<any[]> {
  const res = await t.api('GET', `/api/v1/campaigns/${campaignId}/recipients?limit=500`);
  if (res.status !== 200) throw new Error(`recipients failed: ${res.status} ${res.text}`);
  return res.body.items;
}
