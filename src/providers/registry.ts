import type { ProviderAdapter, ProviderName } from './types.ts';
import type { ProviderWebhook } from './webhook-types.ts';
import type { CredentialField } from './credential-fields.ts';
import { simulatorAdapter } from './simulator/simulator-adapter.ts';
import { WHATSAPP_CREDENTIALS, whatsappAdapter } from './whatsapp/whatsapp-adapter.ts';
import { whatsappWebhook } from './whatsapp/whatsapp-webhook.ts';
import { LINE_CREDENTIALS, lineAdapter } from './line/line-adapter.ts';
import { lineWebhook } from './line/line-webhook.ts';
import { TELEGRAM_CREDENTIALS, telegramAdapter } from './telegram/telegram-adapter.ts';
import { telegramWebhook } from './telegram/telegram-webhook.ts';
import { MESSENGER_CREDENTIALS, messengerAdapter } from './messenger/messenger-adapter.ts';
import { messengerWebhook } from './messenger/messenger-webhook.ts';
import { TWILIO_CREDENTIALS, twilioAdapter } from './twilio/twilio-adapter.ts';
import { twilioWebhook } from './twilio/twilio-webhook.ts';

/** Every adapter Herald ships, by provider name. */
const adapters = new Map<ProviderName, ProviderAdapter>([
  ['simulator', simulatorAdapter],
  ['whatsapp', whatsappAdapter],
  ['line', lineAdapter],
  ['telegram', telegramAdapter],
  ['messenger', messengerAdapter],
  ['twilio', twilioAdapter],
]);

/** Inbound webhook handling for the providers that send webhooks (all real ones). */
const webhooks = new Map<ProviderName, ProviderWebhook>([
  ['whatsapp', whatsappWebhook],
  ['line', lineWebhook],
  ['telegram', telegramWebhook],
  ['messenger', messengerWebhook],
  ['twilio', twilioWebhook],
]);

/** The credential fields each provider takes (the simulator takes none). */
export const CREDENTIAL_FIELDS: Readonly<Record<ProviderName, readonly CredentialField[]>> = Object.freeze({
  simulator: [],
  whatsapp: WHATSAPP_CREDENTIALS,
  line: LINE_CREDENTIALS,
  telegram: TELEGRAM_CREDENTIALS,
  messenger: MESSENGER_CREDENTIALS,
  twilio: TWILIO_CREDENTIALS,
});

export function getAdapter(provider: ProviderName): ProviderAdapter {
  const adapter = adapters.get(provider);
  if (!adapter) throw new Error(`no adapter for provider ${provider}`);
  return adapter;
}

export function hasAdapter(provider: string): provider is ProviderName {
  return adapters.has(provider as ProviderName);
}

export function availableProviders(): ProviderName[] {
  return [...adapters.keys()];
}

/** The webhook verifier/parser for a provider, or null (the simulator has no webhooks). */
export function getWebhook(provider: ProviderName): ProviderWebhook | null {
  return webhooks.get(provider) ?? null;
}
