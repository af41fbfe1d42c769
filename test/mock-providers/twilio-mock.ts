import { randomBytes } from 'node:crypto';
import { signTwilioRequest, type FormParams } from '../../src/providers/twilio/twilio-webhook.ts';
import { injectedFailure, postWebhook, type MockContext, type MockDefinition, type MockReply, type MockRequest } from './mock-server.ts';

/**
 * Twilio Messaging: `POST /2010-04-01/Accounts/{sid}/Messages.json` (form, Basic auth) and
 * `GET /2010-04-01/Accounts/{sid}.json`. Recipient prefixes: `fail-` 21211 invalid number,
 * `block-` 21610 unsubscribed (STOP), `reject-` 21617 body too long, `transient-` 500. When the
 * request names a `StatusCallback`, the mock posts signed `sent` then `delivered` callbacks.
 */

const error = (status: number, code: number, message: string): MockReply => ({
  status,
  body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
});

const FAILURES = {
  fail: (to: string) => error(400, 21211, `The 'To' number ${to} is not a valid phone number.`),
  block: () => error(400, 21610, 'Attempt to send to unsubscribed recipient'),
  reject: () => error(400, 21617, 'The concatenated message body exceeds the 1600 character limit.'),
  transient: () => error(500, 20500, 'Internal Server Error'),
};

function basicAuth(req: MockRequest): { user: string; password: string } | null {
  const header = req.headers.authorization;
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? null : { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

const sid = (prefix: string) => prefix + randomBytes(16).toString('hex');

export function statusCallbackParams(accountSid: string, messageSid: string, to: string, from: string, status: string, errorCode?: string): FormParams {
  const params: FormParams = { AccountSid: accountSid, ApiVersion: '2010-04-01', From: from, MessageSid: messageSid, MessageStatus: status, SmsSid: messageSid, SmsStatus: status, To: to };
  if (errorCode) params.ErrorCode = errorCode;
  return params;
}

function sendMessage(req: MockRequest, ctx: MockContext): MockReply {
  const form = req.form ?? new URLSearchParams();
  const to = form.get('To');
  const from = form.get('From');
  const service = form.get('MessagingServiceSid');
  const body = form.get('Body') ?? '';
  const media = form.getAll('MediaUrl');
  if (!to) return error(400, 21604, "A 'To' phone number is required.");
  if (!from && !service) return error(400, 21603, "A 'From' phone number is required.");
  if (from && ctx.credentials.from && from !== ctx.credentials.from) {
    return error(400, 21606, `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`);
  }
  if (!body && media.length === 0) return error(400, 21602, 'Message body is required.');
  if (body.length > 1600) return FAILURES.reject();
  const injected = injectedFailure(to);
  if (injected) return injected === 'fail' ? FAILURES.fail(to) : FAILURES[injected]();
  const messageSid = sid('SM');
  const accountSid = ctx.credentials.accountSid;
  ctx.record({ recipient: to, message: Object.fromEntries(form), text: body || undefined, providerMessageId: messageSid, delivered: true });
  const callback = form.get('StatusCallback');
  if (callback) {
    const sender = from ?? '+15005550006';
    ctx.scheduleWebhook(callback, statusCallbackParams(accountSid, messageSid, to, sender, 'sent'));
    ctx.scheduleWebhook(callback, statusCallbackParams(accountSid, messageSid, to, sender, 'delivered'));
  }
  const now = new Date().toUTCString().replace('GMT', '+0000');
  const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${messageSid}`;
  return {
    status: 201,
    body: {
      account_sid: accountSid, api_version: '2010-04-01', body, date_created: now, date_sent: null, date_updated: now,
      direction: 'outbound-api', error_code: null, error_message: null, from: service ? null : from, messaging_service_sid: service,
      num_media: String(media.length), num_segments: String(Math.max(1, Math.ceil(body.length / 153))), price: null, price_unit: 'USD',
      sid: messageSid, status: service ? 'accepted' : 'queued', subresource_uris: { media: `${uri}/Media.json` }, to, uri: `${uri}.json`,
    },
  };
}

export function createTwilioMock(): MockDefinition {
  return {
    provider: 'twilio',
    authorize(req, ctx) {
      const auth = basicAuth(req);
      return auth !== null && auth.user === ctx.credentials.accountSid && auth.password === ctx.credentials.authToken;
    },
    authError: () => error(401, 20003, 'Authenticate'),
    rateLimited: () => error(429, 20429, 'Too Many Requests'),
    serverError: FAILURES.transient,
    handle(req, ctx) {
      const m = /^\/2010-04-01\/Accounts\/([^/]+?)(\/Messages)?\.json$/.exec(req.path);
      if (!m) return error(404, 20404, `The requested resource ${req.path} was not found`);
      if (m[1] !== ctx.credentials.accountSid) return error(404, 20404, `The requested resource ${req.path} was not found`);
      if (m[2] && req.method === 'POST') return sendMessage(req, ctx);
      if (!m[2] && req.method === 'GET') {
        return { status: 200, body: { sid: m[1], friendly_name: 'Herald Mock Account', status: 'active', type: 'Full', date_created: new Date(0).toUTCString() } };
      }
      return error(405, 20004, 'Method not allowed');
    },
    sendWebhook(url, payload, credentials) {
      const params = payload as FormParams;
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) for (const value of Array.isArray(v) ? v : [v]) form.append(k, value);
      return postWebhook(url, form.toString(), {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signTwilioRequest(credentials.authToken, url, params),
      });
    },
  };
}
