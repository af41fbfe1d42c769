import { randomBytes, randomUUID } from 'node:crypto';
import { isRecord } from '../../src/providers/http-call.ts';
import { signLineBody } from '../../src/providers/line/line-webhook.ts';
import { bearerToken } from './meta-mock-kit.ts';
import { fakeId, injectedFailure, postWebhook, type MockContext, type MockDefinition, type MockReply, type MockRequest } from './mock-server.ts';

/**
 * LINE Messaging API: push, multicast (≤ 500) and bot info. `X-Line-Retry-Key` is tracked: a
 * key seen on an accepted request answers 409 with `x-line-accepted-request-id`, as LINE does.
 * Recipient prefixes: `fail-` 400 "Failed to send messages" (multicast drops them silently),
 * `block-` 200 but not delivered (LINE's real behaviour), `reject-` 400 about the message body,
 * `transient-` 500.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const bodyError = (details: Array<{ message: string; property: string }>): MockReply => ({
  status: 400,
  body: { message: `The request body has ${details.length} error(s)`, details },
});

function requestIdHeaders(extra: Record<string, string> = {}) {
  return { 'x-line-request-id': randomUUID(), ...extra };
}

function checkMessages(messages: unknown): MockReply | string {
  if (!Array.isArray(messages) || messages.length === 0) return bodyError([{ message: 'Size must be between 1 and 5', property: 'messages' }]);
  if (messages.length > 5) return bodyError([{ message: 'Size must be between 1 and 5', property: 'messages' }]);
  const texts: string[] = [];
  for (const [i, m] of messages.entries()) {
    if (!isRecord(m)) return bodyError([{ message: 'Must be an object', property: `messages[${i}]` }]);
    if (m.type === 'text') {
      if (typeof m.text !== 'string' || m.text === '') return bodyError([{ message: 'May not be empty', property: `messages[${i}].text` }]);
      if (m.text.length > 5000) return bodyError([{ message: 'Length must be between 0 and 5000', property: `messages[${i}].text` }]);
      texts.push(m.text);
    } else if (m.type === 'image') {
      for (const field of ['originalContentUrl', 'previewImageUrl']) {
        const v = m[field];
        if (typeof v !== 'string' || !v.startsWith('https://')) return bodyError([{ message: 'must be a valid HTTPS URL', property: `messages[${i}].${field}` }]);
      }
    } else {
      return bodyError([{ message: 'Invalid message type', property: `messages[${i}].type` }]);
    }
  }
  return texts.join('\n');
}

export function createLineMock(): MockDefinition {
  const acceptedKeys = new Map<string, string>();

  function send(req: MockRequest, ctx: MockContext, multicast: boolean): MockReply {
    const retryKey = req.headers['x-line-retry-key'];
    if (typeof retryKey === 'string') {
      if (!UUID.test(retryKey)) return { status: 400, body: { message: "The value for the 'X-Line-Retry-Key' header is invalid" } };
      const accepted = acceptedKeys.get(retryKey.toLowerCase());
      if (accepted) return { status: 409, body: { message: 'The retry key is already accepted', details: [] }, headers: requestIdHeaders({ 'x-line-accepted-request-id': accepted }) };
    }
    const body = isRecord(req.json) ? req.json : null;
    if (!body) return { status: 400, body: { message: 'The request body has 1 error(s)', details: [{ message: 'must be JSON', property: '' }] } };
    const recipients: unknown[] = multicast ? (Array.isArray(body.to) ? body.to : []) : typeof body.to === 'string' && body.to !== '' ? [body.to] : [];
    if (recipients.length === 0 || recipients.some((r) => typeof r !== 'string' || r === '')) return bodyError([{ message: 'May not be empty', property: 'to' }]);
    if (recipients.length > 500) return bodyError([{ message: 'Size must be between 1 and 500', property: 'to' }]);
    const text = checkMessages(body.messages);
    if (typeof text !== 'string') return text;
    const users = recipients as string[];
    if (!multicast) {
      const injected = injectedFailure(users[0]);
      if (injected === 'fail') return { status: 400, body: { message: 'Failed to send messages' } };
      if (injected === 'reject') return bodyError([{ message: 'The message contains a prohibited expression', property: 'messages[0].text' }]);
      if (injected === 'transient') return { status: 500, body: { message: 'Internal server error' } };
    }
    const requestId = randomUUID();
    if (typeof retryKey === 'string') acceptedKeys.set(retryKey.toLowerCase(), requestId);
    const sentMessages: Array<{ id: string; quoteToken: string }> = [];
    for (const user of users) {
      const id = BigInt(`0x${randomBytes(7).toString('hex')}`).toString();
      const injected = injectedFailure(user);
      // Multicast gives no per-user answer: unknown users are dropped without a word.
      if (multicast && injected === 'fail') continue;
      ctx.record({ recipient: user, message: body.messages, text: text || undefined, retryKey: typeof retryKey === 'string' ? retryKey : undefined, providerMessageId: multicast ? requestId : id, delivered: injected !== 'block' });
      sentMessages.push({ id, quoteToken: fakeId('q', 32) });
    }
    return { status: 200, body: multicast ? {} : { sentMessages }, headers: { 'x-line-request-id': requestId } };
  }

  return {
    provider: 'line',
    authorize: (req, ctx) => bearerToken(req) === ctx.credentials.channelAccessToken,
    authError: () => ({ status: 401, body: { message: 'Authentication failed. Confirm that the access token in the authorization header is valid.' } }),
    rateLimited: () => ({ status: 429, body: { message: 'The API rate limit has been exceeded. Try again later.' } }),
    serverError: () => ({ status: 500, body: { message: 'Internal server error' } }),
    handle(req, ctx) {
      if (req.method === 'POST' && req.path === '/v2/bot/message/push') return send(req, ctx, false);
      if (req.method === 'POST' && req.path === '/v2/bot/message/multicast') return send(req, ctx, true);
      if (req.method === 'GET' && req.path === '/v2/bot/info') {
        return { status: 200, body: { userId: 'U0000000000000000000000000000mock', basicId: '@123mock', displayName: 'Herald Mock', chatMode: 'bot', markAsReadMode: 'auto' } };
      }
      return { status: 404, body: { message: 'Not found' } };
    },
    reset: () => acceptedKeys.clear(),
    sendWebhook(url, payload, credentials) {
      const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
      return postWebhook(url, body, { 'content-type': 'application/json', 'x-line-signature': signLineBody(credentials.channelSecret, body) });
    },
  };
}
