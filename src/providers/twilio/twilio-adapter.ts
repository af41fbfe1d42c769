import type { CredentialField } from '../credential-fields.ts';
import { credential, hasValue, missingCredentials } from '../credential-fields.ts';
import { baseUrl, callProvider, classifyHttpStatus, failure, isRecord, retryAfterMs, settingString, str, timeoutMs, type Failure, type ProviderResponse } from '../http-call.ts';
import { validateCommonMessage } from '../message-limits.ts';
import type { ChannelRuntime, FailureClass, MessageContent, ProviderAdapter, SendOutcome, TestConnectionResult } from '../types.ts';

/**
 * Twilio Programmable Messaging (SMS/MMS): form-encoded POST with HTTP Basic auth. The sender
 * is either a number (`From`) or a Messaging Service (`MessagingServiceSid`, which picks numbers
 * and queues for throughput). Delivery results come later to `settings.statusCallbackUrl`.
 */

export const TWILIO_CREDENTIALS: readonly CredentialField[] = [
  { name: 'accountSid', required: true, description: 'account SID (AC…)' },
  { name: 'authToken', required: true, description: 'auth token; also verifies webhook signatures' },
  { name: 'from', required: false, description: 'sender number in E.164; this or messagingServiceSid' },
  { name: 'messagingServiceSid', required: false, description: 'Messaging Service SID (MG…); this or from' },
];

const DEFAULT_BASE = 'https://api.twilio.com';

export function classifyTwilioError(status: number, code: number | null): FailureClass {
  switch (code) {
    case 21211:
    case 21614:
    case 21612:
      return 'invalid_recipient';
    case 21610:
      return 'recipient_blocked';
    case 20003:
      return 'channel_auth';
    case 20429:
    case 21611:
      return 'rate_limited';
  }
  return classifyHttpStatus(status);
}

function twilioFailure(res: ProviderResponse): Failure {
  const body = isRecord(res.json) ? res.json : {};
  const code = typeof body.code === 'number' ? body.code : null;
  const errorClass = classifyTwilioError(res.status, code);
  const message = str(body.message) ?? `HTTP ${res.status}`;
  return failure(errorClass, code === null ? String(res.status) : String(code), message, errorClass === 'rate_limited' ? retryAfterMs(res.headers) : undefined);
}

function validate(credentials: Record<string, unknown>): string[] {
  const errors = missingCredentials(TWILIO_CREDENTIALS, credentials);
  if (!hasValue(credentials.from) && !hasValue(credentials.messagingServiceSid)) {
    errors.push('credentials.from or credentials.messagingServiceSid is required (the sender)');
  }
  return errors;
}

function authHeader(channel: ChannelRuntime): string {
  const pair = `${credential(channel.credentials, 'accountSid')}:${credential(channel.credentials, 'authToken')}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

function accountUrl(channel: ChannelRuntime): string {
  return `${baseUrl(channel.settings, DEFAULT_BASE)}/2010-04-01/Accounts/${encodeURIComponent(credential(channel.credentials, 'accountSid'))}`;
}

export const twilioAdapter: ProviderAdapter = {
  name: 'twilio',
  // One segment per second is a US long code's limit; short codes and services go higher via settings.
  defaultRatePerSecond: 1,
  supportsIdempotencyKey: false,

  validateMessage(message: MessageContent): string[] {
    return validateCommonMessage(message, { textMax: 1600, captionMax: 1600, templates: false });
  },

  validateCredentials: validate,

  async send(req): Promise<SendOutcome> {
    const { channel, message } = req;
    const problems = validate(channel.credentials);
    if (problems.length) return failure('channel_auth', 'missing_credentials', problems.join('; '));
    if (message.type === 'template') return failure('content_rejected', 'unsupported', 'SMS channels do not take WhatsApp templates');
    const form = new URLSearchParams({ To: req.providerUserId });
    // A Messaging Service wins when both are set: it is the sender Twilio scales.
    if (hasValue(channel.credentials.messagingServiceSid)) form.set('MessagingServiceSid', credential(channel.credentials, 'messagingServiceSid'));
    else form.set('From', credential(channel.credentials, 'from'));
    if (message.type === 'text') form.set('Body', message.text);
    else {
      form.set('MediaUrl', message.url);
      if (message.caption) form.set('Body', message.caption);
    }
    const callback = settingString(channel.settings, 'statusCallbackUrl', '');
    if (callback) form.set('StatusCallback', callback);
    const result = await callProvider(`${accountUrl(channel)}/Messages.json`, {
      method: 'POST',
      headers: { authorization: authHeader(channel), 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      timeoutMs: timeoutMs(channel.settings),
      signal: req.signal,
    });
    if (!result.ok) return result.failure;
    const res = result.response;
    if (res.status !== 200 && res.status !== 201) return twilioFailure(res);
    return { ok: true, providerMessageId: (isRecord(res.json) ? str(res.json.sid) : undefined) ?? null };
  },

  async testConnection(channel): Promise<TestConnectionResult> {
    const problems = validate(channel.credentials);
    if (problems.length) return failure('channel_auth', 'missing_credentials', problems.join('; '));
    const result = await callProvider(`${accountUrl(channel)}.json`, {
      method: 'GET',
      headers: { authorization: authHeader(channel) },
      timeoutMs: timeoutMs(channel.settings),
    });
    if (!result.ok) return result.failure;
    const res = result.response;
    if (res.status !== 200) {
      const { errorClass, code, message } = twilioFailure(res);
      // 20404: the account SID does not exist, a channel problem.
      return { ok: false, errorClass: res.status === 404 ? 'channel_auth' : errorClass, code, message };
    }
    const body = isRecord(res.json) ? res.json : {};
    if (body.status !== undefined && body.status !== 'active') {
      return { ok: false, errorClass: 'channel_auth', code: 'account_status', message: `Twilio account is ${str(body.status)}` };
    }
    return { ok: true, details: { sid: body.sid, friendlyName: body.friendly_name, status: body.status } };
  },
};
