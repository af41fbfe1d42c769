import { randomBytes } from 'node:crypto';
import { isRecord } from '../../src/providers/http-call.ts';
import { bearerToken, graphAuthError, graphError, graphPath, sendMetaWebhook, unsupportedRequest } from './meta-mock-kit.ts';
import { injectedFailure, type MockContext, type MockDefinition, type MockReply, type MockRequest } from './mock-server.ts';

/**
 * WhatsApp Cloud API: `POST /{v}/{phone-number-id}/messages` and `GET /{v}/{phone-number-id}`.
 * Recipient prefixes: `fail-` 131026 undeliverable, `block-` 131049 marketing cap, `reject-`
 * 131047 outside the 24 h window, `transient-` 131000 (500). With `webhookUrl`, every accepted
 * message is followed by a signed `delivered` status webhook, as Meta sends it.
 */

const missingParam = (details: string) => graphError(400, { code: 131008, message: '(#131008) Required parameter is missing', details, whatsapp: true });

function validate(body: Record<string, unknown>): MockReply | string {
  if (body.messaging_product !== 'whatsapp') return graphError(400, { code: 100, message: '(#100) The parameter messaging_product is required.' });
  if (typeof body.to !== 'string' || body.to === '') return missingParam('Parameter to is required');
  const part = isRecord(body[String(body.type)]) ? (body[String(body.type)] as Record<string, unknown>) : null;
  switch (body.type) {
    case 'text':
      if (!part || typeof part.body !== 'string' || part.body === '') return missingParam('Parameter text.body is required');
      if (part.body.length > 4096) return graphError(400, { code: 100, message: '(#100) Invalid parameter', details: 'text.body is too long (max 4096)', whatsapp: true });
      return part.body;
    case 'image':
      if (!part || (typeof part.link !== 'string' && typeof part.id !== 'string')) return missingParam('Parameter image.link or image.id is required');
      if (typeof part.caption === 'string' && part.caption.length > 1024) {
        return graphError(400, { code: 100, message: '(#100) Invalid parameter', details: 'image.caption is too long (max 1024)', whatsapp: true });
      }
      return typeof part.caption === 'string' ? part.caption : '';
    case 'template': {
      const language = part && isRecord(part.language) ? part.language : null;
      if (!part || typeof part.name !== 'string' || !language || typeof language.code !== 'string') return missingParam('Parameter template.name and template.language.code are required');
      return `template:${part.name}`;
    }
    default:
      return graphError(400, { code: 100, message: '(#100) Invalid parameter', details: `Unsupported message type ${String(body.type)}`, whatsapp: true });
  }
}

const FAILURES = {
  fail: () => graphError(400, { code: 131026, message: 'Message Undeliverable.', details: 'Message failed to send because the recipient is not a WhatsApp user.', whatsapp: true }),
  block: () => graphError(400, { code: 131049, message: 'This message was not delivered to maintain healthy ecosystem engagement.', whatsapp: true }),
  reject: () => graphError(400, { code: 131047, message: 'Re-engagement message', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.', whatsapp: true }),
  transient: () => graphError(500, { code: 131000, message: 'Something went wrong', details: 'Message failed to send because of an unknown error.', whatsapp: true }),
};

export function statusWebhook(phoneNumberId: string, messageId: string, recipient: string, status: 'sent' | 'delivered' | 'read' | 'failed') {
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: 'WABA_ID', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: phoneNumberId }, statuses: [{ id: messageId, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: recipient }] } }] }],
  };
}

function sendMessage(req: MockRequest, ctx: MockContext): MockReply {
  const body = isRecord(req.json) ? req.json : null;
  if (!body) return graphError(400, { code: 100, message: '(#100) The request body must be JSON' });
  const checked = validate(body);
  if (typeof checked !== 'string') return checked;
  const to = String(body.to);
  const injected = injectedFailure(to);
  if (injected) return FAILURES[injected]();
  const id = `wamid.${randomBytes(24).toString('base64url')}`;
  ctx.record({ recipient: to, message: body, text: checked || undefined, providerMessageId: id, delivered: true });
  if (ctx.options.webhookUrl) ctx.scheduleWebhook(ctx.options.webhookUrl, statusWebhook(ctx.credentials.phoneNumberId, id, to, 'delivered'));
  return { status: 200, body: { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: to }], messages: [{ id }] } };
}

export function createWhatsAppMock(): MockDefinition {
  return {
    provider: 'whatsapp',
    authorize: (req, ctx) => bearerToken(req) === ctx.credentials.accessToken,
    authError: graphAuthError,
    rateLimited: () => graphError(429, { code: 130429, message: '(#130429) Rate limit hit', details: 'Cloud API message throughput has been reached.', whatsapp: true }),
    serverError: FAILURES.transient,
    handle(req, ctx) {
      const route = graphPath(req.path);
      if (!route) return graphError(404, { code: 803, message: 'Unknown path components' });
      if (route.objectId !== ctx.credentials.phoneNumberId) return unsupportedRequest(req.method, route.objectId);
      if (req.method === 'POST' && route.edge === 'messages') return sendMessage(req, ctx);
      if (req.method === 'GET' && !route.edge) {
        return { status: 200, body: { verified_name: 'Herald Mock', display_phone_number: '+1 555-010-0000', quality_rating: 'GREEN', id: route.objectId } };
      }
      return unsupportedRequest(req.method, route.objectId);
    },
    sendWebhook: (url, payload, credentials) => sendMetaWebhook(url, payload, credentials.appSecret),
  };
}
