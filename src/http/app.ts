import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { AppContext } from '../app-context.ts';
import type { AuthContext } from '../workspaces/workspaces-store.ts';
import { authenticateRequest } from './auth.ts';
import { ApiError } from './errors.ts';
import { InvalidCursorError } from '../util/ids.ts';
import { Routes } from './route-kit.ts';
import { buildOpenApi } from './openapi.ts';
import { channelRoutes } from './routes/channel-routes.ts';
import { contactRoutes } from './routes/contact-routes.ts';
import { campaignRoutes } from './routes/campaign-routes.ts';
import { accountRoutes, PUBLIC_ACCOUNT_PATHS } from './routes/account-routes.ts';
import { composerRoutes } from './routes/composer-routes.ts';
import { workspaceRoutes } from './routes/workspace-routes.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

export const VERSION = '0.1.0';
const PUBLIC = new Set(['/api/v1/health', '/api/v1/openapi.json', ...PUBLIC_ACCOUNT_PATHS]);

export { bearerToken } from './auth.ts';

/**
 * What Node's HTTP parser refuses before Fastify sees a request (a malformed request line or
 * header, headers over 16 KiB, a client too slow to send them), answered in the API's error shape.
 * The parser cannot find the next request on this connection, so it is closed, and the answer
 * says so: without `Connection: close` a keep-alive client would send its next request into it.
 */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const error = err.code === 'HPE_HEADER_OVERFLOW' ? new ApiError('headers_too_large', 'Request headers are larger than 16 KiB')
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? new ApiError('request_timeout', 'The request was not received in time')
      : new ApiError('bad_request', 'Malformed HTTP request');
  const body = JSON.stringify(error.toBody());
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

/** How much of an unread body is read and dropped after the answer (see drainBody). */
const DRAIN_BYTES = 64 * 1024 * 1024;
const DRAIN_MS = 15_000;

/**
 * A request answered before its body was read to the end (a body over the limit, a CSV import
 * refused at its header) leaves the rest of the body in the connection. Left there, the next
 * request of a keep-alive client is never read (it hangs); closing the connection instead resets
 * it (TCP RST, unread bytes), and a client still uploading gets EPIPE instead of the answer. So
 * the rest is read and dropped, up to 64 MiB or 15 s, after which the connection is cut.
 */
function drainBody(raw: IncomingMessage): void {
  const socket = raw.socket;
  // Only a real connection (not app.inject's stand-in, which has no destroy), and never an
  // upgrade: that socket belongs to the WebSocket, or @fastify/websocket destroys it.
  if (raw.complete || !(socket instanceof Socket) || socket.destroyed || raw.headers.upgrade !== undefined) return;
  raw.unpipe();
  raw.resume();
  const start = socket.bytesRead;
  const started = Date.now();
  const timer = setInterval(() => {
    if (raw.complete || socket.destroyed) clearInterval(timer);
    else if (socket.bytesRead - start > DRAIN_BYTES || Date.now() - started > DRAIN_MS) {
      clearInterval(timer);
      socket.destroy();
    }
  }, 100);
  timer.unref();
}

/**
 * The HTTP app, separate from listen() so tests drive it in process (`app.inject`). Request path:
 * onRequest (API key or session cookie → workspace + role) → route (zod input) → domain service → storage.
 */
export async function createApp(ctx: AppContext, extend?: (app: FastifyInstance, routes: Routes) => Promise<void> | void): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as unknown as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // Per-request logs would be one line per API call under load: requests are logged on error only.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    return503OnClosing: true,
    clientErrorHandler,
    // The router's own refusals, in the API's error shape: an id longer than any id is not found.
    frameworkErrors: (err, _req, reply) => {
      const error = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? new ApiError('not_found', 'No such resource: the id in the path is too long')
        : new ApiError('bad_request', 'Malformed URL: invalid percent-encoding in the path');
      return (reply as FastifyReply).code(error.status).send(error.toBody());
    },
  });
  app.decorateRequest('auth', null);
  // CSV bodies stream straight into the importer (contacts/csv-import.ts) instead of being buffered.
  app.addContentTypeParser(['text/csv', 'application/csv'], (_req, payload, done) => done(null, payload));

  app.addHook('onResponse', async (req) => drainBody(req.raw));

  app.addHook('onRequest', async (req) => {
    // Decided on the route the router matched, not on the raw URL: the router also takes the
    // absolute form (`GET http://host/api/v1/…`) and percent-encoded paths (`/%61pi/v1/…`).
    const route = req.routeOptions.url;
    if (!route?.startsWith('/api/v1/') || PUBLIC.has(route)) return;
    // An API key or a session cookie (http/auth.ts); null only for a refused WebSocket upgrade.
    const auth = await authenticateRequest(ctx, req, route);
    if (!auth) return;
    req.auth = auth;
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError) return reply.code(err.status).send(err.toBody());
    if (err instanceof InvalidCursorError) return reply.code(400).send(new ApiError('invalid_cursor', 'cursor is not valid; pass the nextCursor of a previous page').toBody());
    const status = (err as FastifyError).statusCode ?? 500;
    const code = (err as FastifyError).code;
    if (status === 413 || code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      // Fastify asks to close the connection; it is kept, and the rest of the body drained (drainBody).
      reply.removeHeader('connection');
      return reply.code(413).send(new ApiError('payload_too_large', 'Request body is too large').toBody());
    }
    if (status === 415 || code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send(new ApiError('unsupported_media_type', `Unsupported Content-Type ${req.headers['content-type'] ?? ''}`.trim()).toBody());
    if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError) {
      return reply.code(400).send(new ApiError('invalid_json', `Malformed JSON body: ${err.message}`).toBody());
    }
    if (status >= 400 && status < 500) return reply.code(status).send({ error: { code: 'bad_request', message: err.message } });
    req.log.error({ err, url: req.url, method: req.method }, 'request failed');
    return reply.code(500).send(new ApiError('internal_error', 'Internal error; it has been logged').toBody());
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(new ApiError('not_found', `No route ${req.method} ${req.url.split('?')[0]}`).toBody()));

  const routes = new Routes(app);
  routes.add({
    method: 'GET', url: '/api/v1/health', tag: 'system', role: 'public', summary: 'Liveness and database check',
    success: { status: 200, description: '{status, version, database}' },
    handler: async ({ reply }) => {
      try {
        await ctx.db.k.selectFrom('workspaces').select('id').limit(1).execute();
        return { status: 'ok', version: VERSION, database: ctx.db.flags.dialect };
      } catch {
        reply.code(503);
        return reply.send({ status: 'unavailable', version: VERSION, database: ctx.db.flags.dialect });
      }
    },
  });
  channelRoutes(routes, ctx);
  contactRoutes(routes, ctx);
  campaignRoutes(routes, ctx);
  accountRoutes(routes, ctx);
  composerRoutes(routes, ctx);
  workspaceRoutes(routes, ctx);
  if (extend) await extend(app, routes);
  let doc: unknown = null;
  routes.add({
    method: 'GET', url: '/api/v1/openapi.json', tag: 'system', role: 'public', summary: 'This OpenAPI document',
    success: { status: 200, description: 'OpenAPI 3.1' },
    handler: async () => (doc ??= buildOpenApi(routes.documented, VERSION)),
  });
  return app;
}
