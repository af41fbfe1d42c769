import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.ts';
import { authenticateApiKey, type AuthContext } from '../workspaces/workspaces-store.ts';
import { authenticateSession, SESSION_COOKIE } from '../accounts/account-service.ts';
import { ApiError } from './errors.ts';

/**
 * Who is calling: an API key (`Authorization: Bearer`, or `?token=` on a WebSocket upgrade) or a
 * person signed in to the web app (the `herald_session` cookie). Both give the same AuthContext, so
 * every route enforces roles the same way for both.
 *
 * Cookies are sent by browsers on cross-site requests too, so a cookie-authenticated request that
 * changes something must prove it comes from Herald's own pages: the custom header
 * `X-Herald-CSRF: 1` (a cross-site page cannot set it without a CORS preflight Herald never
 * allows) or an `Origin` naming this host. A WebSocket upgrade carries no custom header but
 * always an Origin, which must match (cross-site WebSocket hijacking). Bearer keys are never sent
 * by a browser on its own, so they need neither.
 */
export const CSRF_HEADER = 'x-herald-csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const WS_PATH = '/api/v1/ws';

/** Reads `Authorization: Bearer <key>` (or `?token=` for WebSocket upgrades). */
export function bearerToken(headers: Record<string, unknown>, query?: unknown): string | null {
  const h = headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(\S+)$/i.exec(h.trim());
    if (m) return m[1];
  }
  const token = (query as { token?: unknown } | undefined)?.token;
  return typeof token === 'string' && token !== '' ? token : null;
}

export function readCookie(header: unknown, name: string): string | null {
  if (typeof header !== 'string') return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? null : value;
    }
  }
  return null;
}

/** Secure when this request came over https, or Herald's public URL is https (behind a TLS proxy). */
export function isSecureRequest(req: FastifyRequest, ctx: AppContext): boolean {
  return req.protocol === 'https' || ctx.config.publicUrl.startsWith('https:');
}

export function sessionCookie(token: string, expiresAt: number, secure: boolean): string {
  const maxAge = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}; Expires=${new Date(expiresAt).toUTCString()}${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT${secure ? '; Secure' : ''}`;
}

/** The Origin header names this host (or Herald's public URL). */
export function sameOrigin(req: FastifyRequest, ctx: AppContext): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || origin === 'null') return false;
  try {
    const o = new URL(origin);
    return o.host === req.headers.host || o.origin === new URL(ctx.config.publicUrl).origin;
  } catch {
    return false;
  }
}

export function csrfOk(req: FastifyRequest, ctx: AppContext): boolean {
  return req.headers[CSRF_HEADER] === '1' || sameOrigin(req, ctx);
}

/** Refuses a state-changing cookie request that is not from Herald's own pages. */
export function assertCsrf(req: FastifyRequest, ctx: AppContext): void {
  if (!SAFE_METHODS.has(req.method) && !csrfOk(req, ctx)) {
    throw new ApiError('forbidden', 'Requests authenticated by the session cookie must send the header X-Herald-CSRF: 1');
  }
}

/**
 * Authenticates a request to an /api/v1 route (`route`: the matched route's URL). Throws a 401/403 ApiError, except for the WebSocket upgrade,
 * which gets null: it is refused inside the socket (close code 4401), because an HTTP error on an
 * upgrade request would leave the raw socket open.
 */
export async function authenticateRequest(ctx: AppContext, req: FastifyRequest, route: string): Promise<AuthContext | null> {
  const ws = route === WS_PATH;
  // `?token=` only on the WebSocket (browsers cannot set its headers): elsewhere a key in the URL
  // would end up in access logs and browser history.
  const token = bearerToken(req.headers, ws ? req.query : undefined);
  if (token) {
    const auth = await authenticateApiKey(ctx.db, token);
    if (auth || ws) return auth;
    throw new ApiError('unauthorized', 'Invalid or revoked API key');
  }
  const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
  if (cookie) {
    const auth = await authenticateSession(ctx.db, cookie);
    if (ws) return auth && sameOrigin(req, ctx) ? auth : null;
    if (!auth) throw new ApiError('unauthorized', 'Your session has ended; sign in again');
    assertCsrf(req, ctx);
    return auth;
  }
  if (ws) return null;
  throw new ApiError('unauthorized', 'Missing API key: send Authorization: Bearer <key>, or sign in');
}
