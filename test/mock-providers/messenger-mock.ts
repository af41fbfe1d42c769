import { randomBytes } from 'node:crypto';
import { isRecord } from '../../src/providers/http-call.ts';
import { graphAuthError, graphError, graphPath, sendMetaWebhook, unsupportedRequest } from './meta-mock-kit.ts';
import { injectedFailure, type MockContext, type MockDefinition, type MockReply, type MockRequest } from './mock-server.ts';

/**
 * Messenger Send API: `POST /{v}/{page-id}/messages?access_token=…` and `GET /{v}/{page-id}`.
 * Recipient prefixes: `fail-` 100/2018001 no matching user, `block-` 551 person not available,
 * `reject-` 10/2018278 outside the allowed window, `transient-` 1200 (500). With `webhookUrl`,
 * accepted messages are followed by a signed delivery webhook carrying their mids.
 */

const MESSAGING_TYPES = new Set(['RESPONSE', 'UPDATE', 'MESSAGE_TAG']);

const FAILURES = {
  fail: () => graphError(400, { code: 100, subcode: 2018001, message: '(#100) No matching user found' }),
  block: () => graphError(400, { code: 551, subcode: 1545041, message: "(#551) This person isn't available right now." }),
  reject: () => graphError(400, { code: 10, subcode: 2018278, message: '(#10) This message is sent outside of allowed window.' }),
  transient: () => graphError(500, { code: 1200, message: '(#1200) Temporary send message failure. Please try again later' }),
};

export function deliveryWebhook(pageId: string, psid: string, mids: string[], watermark = Date.now()) {
  return { object: 'page', entry: [{ id: pageId, time: Date.now(), messaging: [{ sender: { id: psid }, recipient: { id: pageId }, timestamp: Date.now(), delivery: { mids, watermark } }] }] };
}

function validate(body: Record<string, unknown>): MockReply | string {
  const recipient = isRecord(body.recipient) ? body.recipient : null;
  if (!recipient || typeof recipient.id !== 'string' || recipient.id === '') return graphError(400, { code: 100, message: '(#100) The parameter recipient is required' });
  if (typeof body.messaging_type !== 'string' || !MESSAGING_TYPES.has(body.messaging_type)) {
    return graphError(400, { code: 100, message: '(#100) The parameter messaging_type is required and must be RESPONSE, UPDATE or MESSAGE_TAG' });
  }
  if (body.messaging_type === 'MESSAGE_TAG' && typeof body.tag !== 'string') return graphError(400, { code: 100, message: '(#100) Tag is required for MESSAGE_TAG messaging type' });
  const message = isRecord(body.message) ? body.message : null;
  if (!message) return graphError(400, { code: 100, message: '(#100) param message must be non-empty.' });
  if (typeof message.text === 'string') {
    if (message.text.length > 2000) return graphError(400, { code: 100, message: '(#100) Length of param message[text] must be less than or equal to 2000' });
    return message.text;
  }
  const attachment = isRecord(message.attachment) ? message.attachment : null;
  const payload = attachment && isRecord(attachment.payload) ? attachment.payload : null;
  if (!attachment || attachment.type !== 'image' || !payload || typeof payload.url !== 'string') {
    return graphError(400, { code: 100, message: '(#100) Message cannot be empty, must provide valid attachment or text' });
  }
  return '';
}

function sendMessage(req: MockRequest, ctx: MockContext): MockReply {
  const body = isRecord(req.json) ? req.json : null;
  if (!body) return graphError(400, { code: 100, message: '(#100) The request body must be JSON' });
  const checked = validate(body);
  if (typeof checked !== 'string') return checked;
  const psid = String((body.recipient as Record<string, unknown>).id);
  const injected = injectedFailure(psid);
  if (injected) return FAILURES[injected]();
  const mid = `m_${randomBytes(30).toString('base64url')}`;
  ctx.record({ recipient: psid, message: body, text: checked || undefined, providerMessageId: mid, delivered: true });
  if (ctx.options.webhookUrl) ctx.scheduleWebhook(ctx.options.webhookUrl, deliveryWebhook(ctx.credentials.pageId, psid, [mid]));
  return { status: 200, body: { recipient_id: psid, message_id: mid } };
}

export function createMessengerMock(): MockDefinition {
  return {
    provider: 'messenger',
    authorize: (req, ctx) => req.query.get('access_token') === ctx.credentials.pageAccessToken,
    authError: graphAuthError,
    // Graph's application-level throttle; the HTTP status Meta uses here is unverified.
    rateLimited: () => graphError(400, { code: 613, message: '(#613) Calls to this api have exceeded the rate limit.' }),
    serverError: FAILURES.transient,
    handle(req, ctx) {
      const route = graphPath(req.path);
      if (!route) return graphError(404, { code: 803, message: 'Unknown path components' });
      if (route.objectId !== ctx.credentials.pageId) return unsupportedRequest(req.method, route.objectId);
      if (req.method === 'POST' && route.edge === 'messages') return sendMessage(req, ctx);
      if (req.method === 'GET' && !route.edge) return { status: 200, body: { name: 'Herald Mock Page', id: route.objectId } };
      return unsupportedRequest(req.method, route.objectId);
    },
    sendWebhook: (url, payload, credentials) => sendMetaWebhook(url, payload, credentials.appSecret),
  };
}
