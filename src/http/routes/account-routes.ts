import { z } from 'zod';
import type { AppContext } from '../../app-context.ts';
import * as accounts from '../../accounts/account-service.ts';
import { getApiKey, listApiKeys, revokeApiKey } from '../../accounts/api-keys-store.ts';
import { LoginThrottle } from '../../accounts/login-throttle.ts';
import { MAX_PASSWORD, MIN_PASSWORD } from '../../accounts/passwords.ts';
import { deleteExpiredSessions, listUsers, type User } from '../../accounts/users-store.ts';
import { ROLES, createApiKey, getWorkspace } from '../../workspaces/workspaces-store.ts';
import { assertCsrf, clearedSessionCookie, isSecureRequest, readCookie, sessionCookie } from '../auth.ts';
import { ApiError, notFound } from '../errors.ts';
import type { Routes } from '../route-kit.ts';

/** Reachable without a key or session; they check the CSRF header themselves. */
export const PUBLIC_ACCOUNT_PATHS = ['/api/v1/setup', '/api/v1/auth/login', '/api/v1/auth/logout'] as const;

const email = z.email().max(254);
const password = z.string().min(MIN_PASSWORD, `must be at least ${MIN_PASSWORD} characters`).max(MAX_PASSWORD);
const name = z.string().trim().min(1).max(200);
const role = z.enum(ROLES);

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

export function userView(u: User) {
  return {
    id: u.id, email: u.email, name: u.name, role: u.role, mustChangePassword: u.mustChangePassword,
    disabled: u.disabledAt !== null, createdAt: iso(u.createdAt), lastLoginAt: iso(u.lastLoginAt), disabledAt: iso(u.disabledAt),
  };
}

/** Setup, sign-in and sign-out, the signed-in user, and the admin's users and API keys. */
export function accountRoutes(r: Routes, ctx: AppContext): void {
  const throttle = new LoginThrottle();
  const { db } = ctx;

  r.add({
    method: 'GET', url: '/api/v1/setup', tag: 'accounts', role: 'public', summary: 'Whether Herald still needs its first admin',
    success: { status: 200, description: '{needsSetup}' },
    handler: async () => ({ needsSetup: await accounts.needsSetup(db) }),
  });
  r.add({
    method: 'POST', url: '/api/v1/setup', tag: 'accounts', role: 'public',
    body: z.strictObject({ email, name, password, workspace: z.string().trim().min(1).max(100).optional() }),
    summary: 'Create the first admin (only while no user exists; 409 afterwards). Needs X-Herald-CSRF: 1',
    success: { status: 201, description: '{user, workspace}' },
    handler: async ({ req, body }) => {
      assertCsrf(req, ctx);
      const user = await accounts.setupFirstAdmin(db, body);
      return { user: userView(user), workspace: await getWorkspace(db, user.workspaceId) };
    },
  });
  r.add({
    method: 'POST', url: '/api/v1/auth/login', tag: 'accounts', role: 'public', body: z.strictObject({ email: z.string().max(254), password: z.string().max(MAX_PASSWORD) }),
    summary: 'Sign in: sets the herald_session cookie (HttpOnly, SameSite=Lax, 30 days). Needs X-Herald-CSRF: 1',
    success: { status: 200, description: '{user, expiresAt}' },
    handler: async ({ req, reply, body }) => {
      assertCsrf(req, ctx);
      const { user, token, expiresAt } = await accounts.login(db, throttle, req.ip, body.email, body.password);
      reply.header('set-cookie', sessionCookie(token, expiresAt, isSecureRequest(req, ctx)));
      await deleteExpiredSessions(db);
      return { user: userView(user), expiresAt: iso(expiresAt) };
    },
  });
  r.add({
    method: 'POST', url: '/api/v1/auth/logout', tag: 'accounts', role: 'public', summary: 'Sign out: ends the session and clears its cookie',
    success: { status: 204, description: 'Signed out' },
    handler: async ({ req, reply }) => {
      assertCsrf(req, ctx);
      const token = readCookie(req.headers.cookie, accounts.SESSION_COOKIE);
      if (token) await accounts.logout(db, token);
      reply.header('set-cookie', clearedSessionCookie(isSecureRequest(req, ctx)));
      return undefined;
    },
  });
  r.add({
    method: 'GET', url: '/api/v1/me', tag: 'accounts', role: 'viewer', summary: 'Who is calling: the user (null for an API key), role and workspace',
    success: { status: 200, description: '{user, role, via, workspace}' },
    handler: async ({ auth }) => {
      const user = auth.userId ? await accounts.getUser(db, auth.workspaceId, auth.userId) : null;
      const ws = await getWorkspace(db, auth.workspaceId);
      return { user: user ? userView(user) : null, role: auth.role, via: auth.userId ? 'session' : 'api_key', workspace: ws ? { id: ws.id, name: ws.name } : null };
    },
  });
  r.add({
    method: 'POST', url: '/api/v1/me/password', tag: 'accounts', role: 'viewer', body: z.strictObject({ currentPassword: z.string().max(MAX_PASSWORD), newPassword: password }),
    summary: "Change the signed-in user's password (their other sessions end)",
    success: { status: 204, description: 'Changed' },
    handler: async ({ req, auth, body }) => {
      await accounts.changeOwnPassword(db, auth, readCookie(req.headers.cookie, accounts.SESSION_COOKIE) ?? '', body.currentPassword, body.newPassword);
      return undefined;
    },
  });

  r.add({
    method: 'GET', url: '/api/v1/users', tag: 'accounts', role: 'admin', summary: "The workspace's users",
    success: { status: 200, description: '{items, nextCursor}' },
    handler: async ({ auth }) => ({ items: (await listUsers(db, auth.workspaceId)).map(userView), nextCursor: null }),
  });
  r.add({
    method: 'POST', url: '/api/v1/users', tag: 'accounts', role: 'admin', body: z.strictObject({ email, name, role, password: password.optional() }),
    summary: 'Invite a user with a role; without a password a one-time password is generated and returned once',
    success: { status: 201, description: 'The user, with oneTimePassword (null when a password was given)' },
    handler: async ({ auth, body }) => {
      const { user, password: generated } = await accounts.inviteUser(db, auth.workspaceId, body);
      return { ...userView(user), oneTimePassword: generated };
    },
  });
  r.add({
    method: 'PATCH', url: '/api/v1/users/{id}', tag: 'accounts', role: 'admin', body: z.strictObject({ name: name.optional(), role: role.optional(), disabled: z.boolean().optional(), password: password.optional() }),
    summary: 'Change a user: name, role, disabled (ends their sessions), password (ends their sessions)',
    success: { status: 200, description: 'The user' },
    handler: async ({ auth, params, body }) => userView(await accounts.patchUser(db, auth, params.id, body)),
  });
  r.add({
    method: 'DELETE', url: '/api/v1/users/{id}', tag: 'accounts', role: 'admin', summary: 'Delete a user (not yourself, not the last admin)',
    success: { status: 204, description: 'Deleted' },
    handler: async ({ auth, params }) => accounts.removeUser(db, auth, params.id),
  });

  r.add({
    method: 'GET', url: '/api/v1/api-keys', tag: 'accounts', role: 'admin', summary: "The workspace's API keys (never their secrets)",
    success: { status: 200, description: '{items, nextCursor}' },
    handler: async ({ auth }) => ({ items: await listApiKeys(db, auth.workspaceId), nextCursor: null }),
  });
  r.add({
    method: 'POST', url: '/api/v1/api-keys', tag: 'accounts', role: 'admin', body: z.strictObject({ name, role }),
    summary: 'Create an API key; the secret is in this answer only',
    success: { status: 201, description: 'The key, with its secret in `key`' },
    handler: async ({ auth, body }) => {
      const { id, key } = await createApiKey(db, auth.workspaceId, body);
      const view = await getApiKey(db, auth.workspaceId, id);
      if (!view) throw new ApiError('internal_error', 'The key was created but cannot be read back');
      return { ...view, key };
    },
  });
  r.add({
    method: 'DELETE', url: '/api/v1/api-keys/{id}', tag: 'accounts', role: 'admin', summary: 'Revoke an API key (requests with it get 401 at once)',
    success: { status: 204, description: 'Revoked' },
    handler: async ({ auth, params }) => {
      if (!(await revokeApiKey(db, auth.workspaceId, params.id))) throw notFound('API key');
      return undefined;
    },
  });
}
