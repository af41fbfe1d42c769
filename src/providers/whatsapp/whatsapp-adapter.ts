import type { CredentialField } from '../credential-fields.ts';
import { credential, missingCredentials } from '../credential-fields.ts';
import { baseUrl, callProvider, failure, isRecord, settingString, str, timeoutMs } from '../http-call.ts';
import { validateCommonMessage } from '../message-limits.ts';
import { DEFAULT_GRAPH_BASE, DEFAULT_GRAPH_VERSION, graphConnectionFailure, graphFailure, type GraphError } from '../meta-graph.ts';
import type { ChannelRuntime, FailureClass, MessageContent, ProviderAdapter, RenderedMessage, SendOutcome, SendRequest, TestConnectionResult } from '../types.ts';

/**
 * WhatsApp Business Cloud API: one POST per recipient to `/{version}/{phone-number-id}/messages`.
 * There is no idempotency key and no batch endpoint; many failures arrive later as `failed`
 * status webhooks (see whatsapp-webhook.ts), mapped with the same table as send errors.
 */

export const WHATSAPP_CREDENTIALS: readonly CredentialField[] = [
  { name: 'accessToken', required: true, description: 'system user or app access token' },
  { name: 'phoneNumberId', required: true, description: 'the WhatsApp business phone number ID' },
  { name: 'appSecret', required: false, description: 'app secret, to verify webhook signatures' },
  { name: 'verifyToken', required: false, description: 'token for the webhook subscription handshake' },
];

/** WhatsApp's documented error codes; `null` lets the HTTP status decide. */
export function classifyWhatsAppError(e: Pick<GraphError, 'code'>): FailureClass | null {
  const code = e.code;
  if (code === null) return null;
  if (code === 190 || code === 0) return 'channel_auth';
  if (code === 10 || (code >= 200 && code <= 299)) return 'channel_auth';
  if (code === 130429 || code === 131056 || code === 80007) return 'rate_limited';
  if (code === 131026 || code === 100) return 'invalid_recipient';
  if (code === 131047 || code === 368 || code === 130497) return 'content_rejected';
  // Per-user marketing cap: this message will not reach the user, but later ones may, so the
  // recipient fails without the permanent opt-out a block would bring.
  if (code === 131049) return 'content_rejected';
  if (code === 131000 || code === 2) return 'transient';
  return null;
}

function graphRoot(channel: ChannelRuntime): string {
  const version = settingString(channel.settings, 'graphApiVersion', DEFAULT_GRAPH_VERSION);
  return `${baseUrl(channel.settings, DEFAULT_GRAPH_BASE)}/${version}`;
}

export function whatsappPayload(to: string, message: RenderedMessage): Record<string, unknown> {
  const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to };
  switch (message.type) {
    case 'text':
      return { ...base, type: 'text', text: { preview_url: false, body: message.text } };
    case 'image':
      return { ...base, type: 'image', image: message.caption === undefined ? { link: message.url } : { link: message.url, caption: message.caption } };
    case 'template':
      return {
        ...base,
        type: 'template',
        template: { name: message.template.name, language: { code: message.template.language }, components: message.template.components },
      };
  }
}

function missing(channel: ChannelRuntime) {
  const problems = missingCredentials(WHATSAPP_CREDENTIALS, channel.credentials);
  return problems.length ? failure('channel_auth', 'missing_credentials', problems.join('; ')) : null;
}

export const whatsappAdapter: ProviderAdapter = {
  name: 'whatsapp',
  // Meta's default per phone number; raised automatically to 1,000/s for busy numbers.
  defaultRatePerSecond: 80,
  supportsIdempotencyKey: false,

  validateMessage(message: MessageContent): string[] {
    return validateCommonMessage(message, { textMax: 4096, captionMax: 1024, templates: true });
  },

  validateCredentials(credentials) {
    return missingCredentials(WHATSAPP_CREDENTIALS, credentials);
  },

  async send(req: SendRequest): Promise<SendOutcome> {
    const { channel } = req;
    const bad = missing(channel);
    if (bad) return bad;
    const url = `${graphRoot(channel)}/${encodeURIComponent(credential(channel.credentials, 'phoneNumberId'))}/messages`;
    const result = await callProvider(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${credential(channel.credentials, 'accessToken')}`, 'content-type': 'application/json' },
      body: JSON.stringify(whatsappPayload(req.providerUserId, req.message)),
      timeoutMs: timeoutMs(channel.settings),
      signal: req.signal,
    });
    if (!result.ok) return result.failure;
    const res = result.response;
    if (res.status < 200 || res.status >= 300) return graphFailure(res, classifyWhatsAppError);
    const messages = isRecord(res.json) && Array.isArray(res.json.messages) ? res.json.messages : [];
    const id = isRecord(messages[0]) ? str(messages[0].id) : undefined;
    return { ok: true, providerMessageId: id ?? null };
  },

  async testConnection(channel): Promise<TestConnectionResult> {
    const bad = missing(channel);
    if (bad) return bad;
    const url = `${graphRoot(channel)}/${encodeURIComponent(credential(channel.credentials, 'phoneNumberId'))}`;
    const result = await callProvider(url, {
      method: 'GET',
      headers: { authorization: `Bearer ${credential(channel.credentials, 'accessToken')}` },
      timeoutMs: timeoutMs(channel.settings),
    });
    if (!result.ok) return result.failure;
    const res = result.response;
    if (res.status !== 200) return graphConnectionFailure(res, classifyWhatsAppError);
    const body = isRecord(res.json) ? res.json : {};
    return {
      ok: true,
      details: { id: body.id, displayPhoneNumber: body.display_phone_number, verifiedName: body.verified_name, qualityRating: body.quality_rating },
    };
  },
};
