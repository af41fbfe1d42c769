import { isRecord } from '../../src/providers/http-call.ts';
import { injectedFailure, postWebhook, type MockContext, type MockDefinition, type MockReply, type MockRequest } from './mock-server.ts';

/**
 * Telegram Bot API: `/bot<token>/sendMessage`, `/sendPhoto`, `/getMe`. Errors are
 * `{ok:false, error_code, description}` with the HTTP status equal to error_code; 429 adds
 * `parameters.retry_after` and a `Retry-After` header. Recipient prefixes: `fail-` 400 chat not
 * found, `block-` 403 bot blocked, `reject-` 400 about the content, `transient-` 500.
 */

const error = (code: number, description: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>): MockReply => ({
  status: code,
  body: { ok: false, error_code: code, description, ...extra },
  headers,
});

const FAILURES = {
  fail: () => error(400, 'Bad Request: chat not found'),
  block: () => error(403, 'Forbidden: bot was blocked by the user'),
  reject: () => error(400, "Bad Request: can't parse entities: Unsupported start tag \"spoiler\" at byte offset 0"),
  transient: () => error(500, 'Internal Server Error'),
};

function route(path: string): { token: string; method: string } | null {
  const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(path);
  return m ? { token: decodeURIComponent(m[1]), method: m[2] } : null;
}

/** Telegram takes parameters as JSON, form or query string alike. */
function params(req: MockRequest): Record<string, unknown> {
  if (isRecord(req.json)) return req.json;
  if (req.form) return Object.fromEntries(req.form);
  return Object.fromEntries(req.query);
}

function send(req: MockRequest, ctx: MockContext, method: 'sendMessage' | 'sendPhoto', nextMessageId: () => number): MockReply {
  const p = params(req);
  const chatId = p.chat_id;
  if (chatId === undefined || chatId === '') return error(400, 'Bad Request: chat_id is empty');
  let text: string | undefined;
  if (method === 'sendMessage') {
    if (typeof p.text !== 'string' || p.text.trim() === '') return error(400, 'Bad Request: message text is empty');
    if (p.text.length > 4096) return error(400, 'Bad Request: message is too long');
    text = p.text;
  } else {
    if (typeof p.photo !== 'string' || p.photo === '') return error(400, 'Bad Request: there is no photo in the request');
    if (typeof p.caption === 'string' && p.caption.length > 1024) return error(400, 'Bad Request: message caption is too long');
    text = typeof p.caption === 'string' ? p.caption : undefined;
  }
  const injected = injectedFailure(String(chatId));
  if (injected) return FAILURES[injected]();
  const messageId = nextMessageId();
  const numeric = typeof chatId === 'number' ? chatId : /^-?\d+$/.test(String(chatId)) ? Number(chatId) : String(chatId);
  ctx.record({ recipient: String(chatId), message: p, text, providerMessageId: `${String(numeric)}:${messageId}`, delivered: true });
  const result: Record<string, unknown> = {
    message_id: messageId,
    from: { id: 100000001, is_bot: true, first_name: 'Herald Mock', username: 'herald_mock_bot' },
    chat: { id: numeric, type: 'private' },
    date: Math.floor(Date.now() / 1000),
  };
  if (method === 'sendMessage') result.text = text;
  else result.photo = [{ file_id: `AgAC${messageId}`, file_unique_id: `AQAD${messageId}`, width: 90, height: 90, file_size: 1000 }];
  if (method === 'sendPhoto' && text !== undefined) result.caption = text;
  return { status: 200, body: { ok: true, result } };
}

export function createTelegramMock(): MockDefinition {
  let lastMessageId = 0;
  const nextMessageId = () => ++lastMessageId;
  return {
    provider: 'telegram',
    // Malformed paths are answered 404 by `handle`; only a well-formed path with the wrong token is 401.
    authorize(req, ctx) {
      const r = route(req.path);
      return !r || r.token === ctx.credentials.botToken;
    },
    authError: () => error(401, 'Unauthorized'),
    rateLimited: (seconds) => error(429, `Too Many Requests: retry after ${seconds}`, { parameters: { retry_after: seconds } }, { 'retry-after': String(seconds) }),
    serverError: FAILURES.transient,
    handle(req, ctx) {
      const r = route(req.path);
      if (!r) return error(404, 'Not Found');
      if (r.method === 'sendMessage' || r.method === 'sendPhoto') return send(req, ctx, r.method, nextMessageId);
      if (r.method === 'getMe') {
        return { status: 200, body: { ok: true, result: { id: 100000001, is_bot: true, first_name: 'Herald Mock', username: 'herald_mock_bot', can_join_groups: true } } };
      }
      return error(404, 'Not Found');
    },
    reset: () => {
      lastMessageId = 0;
    },
    sendWebhook(url, payload, credentials) {
      const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
      return postWebhook(url, body, { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': credentials.webhookSecret });
    },
  };
}
