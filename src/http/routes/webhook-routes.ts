import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../app-context.ts';
import { WebhookReceiver } from '../../webhooks/webhook-service.ts';
import { ApiError } from '../errors.ts';
import type { Routes } from '../route-kit.ts';

/** Providers' webhook bodies are small; 1 MiB is far above any of them. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;
const PRUNE_EVERY_MS = 3600_000;

/** Twilio reads the answer to an inbound message as TwiML: an empty Response sends no reply SMS. */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

function fail(reply: FastifyReply, err: ApiError) {
  return reply.code(err.status).send(err.toBody());
}

/**
 * `POST /webhooks/{channelId}` (provider callbacks) and `GET /webhooks/{channelId}` (Meta's
 * verify handshake). Public: the provider's signature over the raw body is the authentication, so
 * these routes live in their own plugin whose content-type parsers keep the body as bytes.
 */
export async function registerWebhookRoutes(app: FastifyInstance, routes: Routes, ctx: AppContext): Promise<WebhookReceiver> {
  const receiver = new WebhookReceiver(ctx);
  const prune = setInterval(() => {
    receiver.prune().catch((err: unknown) => ctx.log.warn({ err }, 'pruning webhook dedupe records failed'));
  }, PRUNE_EVERY_MS);
  prune.unref();

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(['application/json', 'application/x-www-form-urlencoded'], { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));
    scope.addHook('onClose', async () => {
      clearInterval(prune);
      receiver.close();
    });

    scope.post<{ Params: { channelId: string } }>('/webhooks/:channelId', { bodyLimit: WEBHOOK_BODY_LIMIT }, async (req, reply) => {
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const outcome = await receiver.receive(req.params.channelId, { headers: req.headers, rawBody, url: ctx.config.publicUrl + req.url });
      switch (outcome.kind) {
        case 'not_found':
          return fail(reply, new ApiError('not_found', 'No channel receives webhooks at this URL'));
        case 'unauthorized':
          return fail(reply, new ApiError('unauthorized', 'Missing or invalid webhook signature'));
        case 'invalid':
          return fail(reply, new ApiError('validation_failed', `Unreadable webhook body: ${outcome.message}`));
        case 'ok':
          if (outcome.provider === 'twilio') return reply.code(200).type('text/xml').send(EMPTY_TWIML);
          // An empty answer: Telegram would read a JSON answer as a Bot API call.
          return reply.code(200).send();
      }
    });

    scope.get<{ Params: { channelId: string }; Querystring: Record<string, unknown> }>('/webhooks/:channelId', async (req, reply) => {
      const result = await receiver.handshake(req.params.channelId, req.query ?? {});
      if (!result) return fail(reply, new ApiError('not_found', 'No channel with a verification handshake at this URL'));
      if (!result.ok) return fail(reply, new ApiError('forbidden', 'Verify token mismatch'));
      return reply.code(200).type('text/plain').send(result.challenge);
    });
  });

  routes.documented.push(
    {
      method: 'POST', url: '/webhooks/{channelId}', tag: 'webhooks', role: 'public',
      summary: "Provider callbacks (messages, follows, opt-outs, delivery receipts), authenticated by the provider's signature over the raw body",
      success: { status: 200, description: 'Accepted (duplicates are acknowledged and ignored)' },
    },
    {
      method: 'GET', url: '/webhooks/{channelId}', tag: 'webhooks', role: 'public',
      summary: "Meta's verify handshake: hub.mode=subscribe, hub.verify_token, hub.challenge",
      success: { status: 200, description: 'The challenge, as text/plain' },
    },
  );
  return receiver;
}
