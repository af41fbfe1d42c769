import type { CredentialField } from '../credential-fields.ts';
import { credential, missingCredentials } from '../credential-fields.ts';
import { baseUrl, callProvider, failure, isRecord, settingString, str, timeoutMs, type Failure } from '../http-call.ts';
import { validateCommonMessage } from '../message-limits.ts';
import { DEFAULT_GRAPH_BASE, DEFAULT_GRAPH_VERSION, graphConnectionFailure, graphFailure, type GraphError } from '../meta-graph.ts';
import type { ChannelRuntime, FailureClass, MessageContent, ProviderAdapter, RenderedMessage, SendOutcome, TestConnectionResult } from '../types.ts';

/**
 * Facebook Messenger Send API (Instagram messaging has the same shape). Outside the 24 h window
 * only tagged, non-promotional messages go through, so broadcasts default to
 * `messaging_type: MESSAGE_TAG` with tag `ACCOUNT_UPDATE`; both come from channel settings
 * (`messagingType`, `messageTag`).
 */

export const MESSENGER_CREDENTIALS: readonly CredentialField[] = [
  { name: 'pageAccessToken', required: true, description: 'page access token with pages_messaging' },
  { name: 'pageId', required: true, description: 'the Facebook Page ID' },
  { name: 'appSecret', required: false, description: 'app secret, to verify webhook signatures' },
  { name: 'verifyToken', required: false, description: 'token for the webhook subscription handshake' },
];

/** Messenger's documented codes; the subcode separates "no such user" from other bad parameters. */
export function classifyMessengerError(e: Pick<GraphError, 'code' | 'subcode'>): FailureClass | null {
  const { code, subcode } = e;
  if (code === null) return null;
  if (code === 190) return 'channel_auth';
  if (code === 4 || code === 613) return 'rate_limited';
  if (code === 100) return subcode === 2018001 ? 'invalid_recipient' : 'content_rejected';
  if (code === 551) return 'recipient_blocked';
  if (code === 10) return subcode === 2018278 ? 'content_rejected' : 'channel_auth';
  if (code >= 200 && code <= 299) return 'channel_auth';
  if (code === 1200 || code === 2) return 'transient';
  return null;
}

export function messengerPayload(channel: ChannelRuntime, psid: string, message: RenderedMessage): Record<string, unknown> | null {
  const messagingType = settingString(channel.settings, 'messagingType', 'MESSAGE_TAG');
  const head: Record<string, unknown> = { recipient: { id: psid }, messaging_type: messagingType };
  if (messagingType === 'MESSAGE_TAG') head.tag = settingString(channel.settings, 'messageTag', 'ACCOUNT_UPDATE');
  if (message.type === 'text') return { ...head, message: { text: message.text } };
  if (message.type === 'image') return { ...head, message: { attachment: { type: 'image', payload: { url: message.url, is_reusable: true } } } };
  return null;
}

function graphRoot(channel: ChannelRuntime): string {
  return `${baseUrl(channel.settings, DEFAULT_GRAPH_BASE)}/${settingString(channel.settings, 'graphApiVersion', DEFAULT_GRAPH_VERSION)}`;
}

function missing(channel: ChannelRuntime): Failure | null {
  const problems = missingCredentials(MESSENGER_CREDENTIALS, channel.credentials);
  return problems.length ? failure('channel_auth', 'missing_credentials', problems.join('; ')) : null;
}

function pageUrl(channel: ChannelRuntime, suffix: string, query: Record<string, string>): string {
  const qs = new URLSearchParams({ ...query, access_token: credential(channel.credentials, 'pageAccessToken') });
  return `${graphRoot(channel)}/${encodeURIComponent(credential(channel.credentials, 'pageId'))}${suffix}?${qs.toString()}`;
}

export const messengerAdapter: ProviderAdapter = {
  name: 'messenger',
  // Send API limit per Page for text messages.
  defaultRatePerSecond: 300,
  supportsIdempotencyKey: false,

  validateMessage(message: MessageContent): string[] {
    const errors = validateCommonMessage(message, { textMax: 2000, captionMax: 2000, templates: false });
    // An image attachment has no caption; sending it as a second call could deliver half a message.
    if (message.type === 'image' && message.caption) errors.push('Messenger images take no caption; send the text as its own campaign message');
    return errors;
  },

  validateCredentials(credentials) {
    return missingCredentials(MESSENGER_CREDENTIALS, credentials);
  },

  async send(req): Promise<SendOutcome> {
    const bad = missing(req.channel);
    if (bad) return bad;
    const payload = messengerPayload(req.channel, req.providerUserId, req.message);
    if (!payload) return failure('content_rejected', 'unsupported', 'Messenger channels do not take WhatsApp templates');
    const result = await callProvider(pageUrl(req.channel, '/messages', {}), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      timeoutMs: timeoutMs(req.channel.settings),
      signal: req.signal,
    });
    if (!result.ok) return result.failure;
    const res = result.response;
    if (res.status !== 200) return graphFailure(res, classifyMessengerError);
    return { ok: true, providerMessageId: (isRecord(res.json) ? str(res.json.message_id) : undefined) ?? null };
  },

  async testConnection(channel): Promise<TestConnectionResult> {
    const bad = missing(channel);
    if (bad) return bad;
    const result = await callProvider(pageUrl(channel, '', { fields: 'name' }), { method: 'GET', timeoutMs: timeoutMs(channel.settings) });
    if (!result.ok) return result.failure;
    const res = result.response;
    if (res.status !== 200) return graphConnectionFailure(res, classifyMessengerError);
    const body = isRecord(res.json) ? res.json : {};
    return { ok: true, details: { id: body.id, name: body.name } };
  },
};
