import { createLineMock } from './line-mock.ts';
import { createMessengerMock } from './messenger-mock.ts';
import { startMockServer, type MockDefinition, type MockOptions, type MockProvider, type RealProvider } from './mock-server.ts';
import { createTelegramMock } from './telegram-mock.ts';
import { createTwilioMock } from './twilio-mock.ts';
import { createWhatsAppMock } from './whatsapp-mock.ts';

/**
 * Mock provider servers: real HTTP servers that answer like WhatsApp, LINE, Telegram, Messenger
 * and Twilio (see /shared/reference/providers.md). Point a channel at one with
 * `settings.apiBaseUrl = mock.url` (or use `mock.channel()`), send, then count `mock.received`.
 *
 * @example
 *   const mock = await startMockProvider('line', { rateLimitPerSecond: 100 });
 *   const outcome = await lineAdapter.send({ channel: mock.channel(), providerUserId: 'U1', message, idempotencyKey });
 *   expect(mock.received).toHaveLength(1);
 *   await mock.close();
 */

export type { MockOptions, MockProvider, ReceivedMessage, RealProvider } from './mock-server.ts';

export const REAL_PROVIDERS: readonly RealProvider[] = ['whatsapp', 'line', 'telegram', 'messenger', 'twilio'];

/** The credentials each mock accepts unless told otherwise (fake values, safe to print). */
export const MOCK_CREDENTIALS: Readonly<Record<RealProvider, Readonly<Record<string, string>>>> = Object.freeze({
  whatsapp: { accessToken: 'mock-whatsapp-token', phoneNumberId: '100000000000001', appSecret: 'mock-whatsapp-app-secret', verifyToken: 'mock-verify-token' },
  line: { channelAccessToken: 'mock-line-channel-token', channelSecret: 'mock-line-channel-secret' },
  telegram: { botToken: '100000001:mock-telegram-bot-token', webhookSecret: 'mock-telegram-webhook-secret' },
  messenger: { pageAccessToken: 'mock-messenger-page-token', pageId: '200000000000002', appSecret: 'mock-messenger-app-secret', verifyToken: 'mock-verify-token' },
  twilio: { accountSid: 'AC00000000000000000000000000000000', authToken: 'mock-twilio-auth-token', from: '+15005550006' },
});

const FACTORIES: Record<RealProvider, () => MockDefinition> = {
  whatsapp: createWhatsAppMock,
  line: createLineMock,
  telegram: createTelegramMock,
  messenger: createMessengerMock,
  twilio: createTwilioMock,
};

export function startMockProvider(provider: RealProvider, options: MockOptions = {}): Promise<MockProvider> {
  const factory = FACTORIES[provider];
  if (!factory) throw new Error(`no mock for provider ${String(provider)}`);
  return startMockServer(factory(), { ...MOCK_CREDENTIALS[provider], ...options.credentials }, options);
}

export interface MockProviderSet {
  providers: Record<RealProvider, MockProvider>;
  close(): Promise<void>;
}

/**
 * All five mocks at once (for `herald mock-providers` and end-to-end runs). Options apply to
 * every mock; `perProvider` overrides them for one (e.g. fixed ports).
 */
export async function startAllMockProviders(options: MockOptions = {}, perProvider: Partial<Record<RealProvider, MockOptions>> = {}): Promise<MockProviderSet> {
  const started: MockProvider[] = [];
  try {
    for (const provider of REAL_PROVIDERS) started.push(await startMockProvider(provider, { ...options, ...perProvider[provider] }));
  } catch (err) {
    await Promise.all(started.map((m) => m.close()));
    throw err;
  }
  const providers = Object.fromEntries(started.map((m) => [m.provider, m])) as Record<RealProvider, MockProvider>;
  return { providers, close: () => Promise.all(started.map((m) => m.close())).then(() => undefined) };
}
