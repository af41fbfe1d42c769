import { createHash, randomBytes } from 'node:crypto';
import { isUniqueViolation, type Db } from '../storage/db.ts';
import { ApiError, notFound } from '../http/errors.ts';
import { newId } from '../util/ids.ts';
import { DEFAULT_WORKSPACE, ensureWorkspace, type AuthContext, type Role } from '../workspaces/workspaces-store.ts';
import { DUMMY_HASH, generatePassword, hashPassword, verifyPassword } from './passwords.ts';
import type { LoginThrottle } from './login-throttle.ts';
import {
  countActiveAdmins, countUsers, deleteSession, deleteUser, deleteUserSessions, findSessionUser, findUserByEmail,
  getUserRow, insertSession, insertUser, normalizeEmail, toUser, updateUser, type User,
} from './users-store.ts';

/**
 * Accounts: the first admin (setup), sign-in with sessions, and the users an admin manages.
 *
 * A session is a random 256-bit token in the `herald_session` cookie; the database keeps only its
 * SHA-256 as the session id. Each request looks the session up with its user, so a role change,
 * a disabled user or a deleted user takes effect on the very next request.
 */
export const SESSION_COOKIE = 'herald_session';
export const SESSION_TTL_MS = 30 * 24 * 3600_000;

export function sessionId(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function needsSetup(db: Db): Promise<boolean> {
  return (await countUsers(db)) === 0;
}

/** Creates the first admin, in the default workspace or a new one named `workspace`; 409 once any user exists. */
export async function setupFirstAdmin(db: Db, input: { email: string; name: string; password: string; workspace?: string }): Promise<User> {
  if (!(await needsSetup(db))) throw new ApiError('conflict', 'Herald is already set up; sign in, or ask an admin to invite you');
  const ws = await ensureWorkspace(db, input.workspace?.trim() || DEFAULT_WORKSPACE);
  const user = await insertUser(db, {
    id: newId(), workspace_id: ws.id, email: normalizeEmail(input.email), name: input.name.trim(), password_hash: await hashPassword(input.password),
    role: 'admin', must_change_password: 0, created_at: Date.now(), last_login_at: null, disabled_at: null,
  }).catch((err: unknown) => Promise.reject(isUniqueViolation(err) ? new ApiError('conflict', 'Herald is already set up; sign in, or ask an admin to invite you') : err));
  // Two setups racing: the later one finds two users and steps back, so exactly one admin results.
  if ((await countUsers(db)) > 1) {
    await deleteUser(db, ws.id, user.id);
    throw new ApiError('conflict', 'Herald is already set up; sign in, or ask an admin to invite you');
  }
  return user;
}

export async function createSession(db: Db, userId: string, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = now + SESSION_TTL_MS;
  await insertSession(db, { id: sessionId(token), user_id: userId, expires_at: expiresAt, created_at: now });
  return { token, expiresAt };
}

const BAD_LOGIN = 'Email or password is incorrect';

/** Checks the password (as slowly for an unknown email as for a known one) and opens a session. */
export async function login(db: Db, throttle: LoginThrottle, ip: string, email: string, password: string): Promise<{ user: User; token: string; expiresAt: number }> {
  const wait = throttle.retryAfter(ip, email);
  if (wait > 0) throw new ApiError('too_many_requests', `Too many failed sign-ins; try again in ${Math.ceil(wait / 60_000)} minute(s)`, { retryAfterSeconds: Math.ceil(wait / 1000) });
  const row = await findUserByEmail(db, email);
  const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
  if (!row || !ok || row.disabled_at !== null) {
    throttle.fail(ip, email);
    throw new ApiError('unauthorized', BAD_LOGIN);
  }
  throttle.succeed(ip, email);
  const now = Date.now();
  await updateUser(db, row.workspace_id, row.id, { last_login_at: now });
  const session = await createSession(db, row.id, now);
  return { user: toUser({ ...row, last_login_at: now }), ...session };
}

/** The request's identity from a session token, shaped like an API key's. */
export async function authenticateSession(db: Db, token: string): Promise<AuthContext | null> {
  const row = await findSessionUser(db, sessionId(token));
  if (!row) return null;
  return { workspaceId: row.workspace_id, role: row.role as Role, keyId: `session:${row.id}`, userId: row.id };
}

export async function logout(db: Db, token: string): Promise<void> {
  await deleteSession(db, sessionId(token));
}

/** An admin adds a user; without a password one is generated, returned once, and must be changed. */
export async function inviteUser(db: Db, workspaceId: string, input: { email: string; name: string; role: Role; password?: string }): Promise<{ user: User; password: string | null }> {
  const taken = () => new ApiError('conflict', `A user with the email ${normalizeEmail(input.email)} already exists`);
  if (await findUserByEmail(db, input.email)) throw taken();
  const generated = input.password ? null : generatePassword();
  // Hashing takes a while: the same email invited twice at once is refused by the unique index.
  const user = await insertUser(db, {
    id: newId(), workspace_id: workspaceId, email: normalizeEmail(input.email), name: input.name.trim(), password_hash: await hashPassword(input.password ?? generated!),
    role: input.role, must_change_password: generated ? 1 : 0, created_at: Date.now(), last_login_at: null, disabled_at: null,
  }).catch((err: unknown) => Promise.reject(isUniqueViolation(err) ? taken() : err));
  return { user, password: generated };
}

async function keepsAnAdmin(db: Db, workspaceId: string, target: { role: string; disabled_at: number | null }): Promise<boolean> {
  if (target.role !== 'admin' || target.disabled_at !== null) return true;
  return (await countActiveAdmins(db, workspaceId)) > 1;
}

export async function patchUser(db: Db, auth: AuthContext, id: string, patch: { name?: string; role?: Role; disabled?: boolean; password?: string }): Promise<User> {
  const row = await getUserRow(db, auth.workspaceId, id);
  if (!row) throw notFound('User');
  const demotes = (patch.role !== undefined && patch.role !== 'admin') || patch.disabled === true;
  if (demotes && !(await keepsAnAdmin(db, auth.workspaceId, row))) {
    throw new ApiError('conflict', 'This is the last active admin of the workspace; make another user admin first');
  }
  const set: Parameters<typeof updateUser>[3] = {};
  if (patch.name !== undefined) set.name = patch.name.trim();
  if (patch.role !== undefined) set.role = patch.role;
  if (patch.disabled !== undefined) set.disabled_at = patch.disabled ? (row.disabled_at ?? Date.now()) : null;
  if (patch.password !== undefined) {
    set.password_hash = await hashPassword(patch.password);
    set.must_change_password = 0;
  }
  await updateUser(db, auth.workspaceId, id, set);
  if (patch.disabled === true || patch.password !== undefined) await deleteUserSessions(db, id);
  return toUser({ ...row, ...set });
}

export async function removeUser(db: Db, auth: AuthContext, id: string): Promise<void> {
  const row = await getUserRow(db, auth.workspaceId, id);
  if (!row) throw notFound('User');
  if (row.id === auth.userId) throw new ApiError('conflict', 'You cannot delete yourself; another admin can');
  if (!(await keepsAnAdmin(db, auth.workspaceId, row))) throw new ApiError('conflict', 'This is the last active admin of the workspace');
  await deleteUser(db, auth.workspaceId, id);
}

/** A signed-in user changes their own password; their other sessions end. */
export async function changeOwnPassword(db: Db, auth: AuthContext, currentToken: string, current: string, next: string): Promise<void> {
  if (!auth.userId) throw new ApiError('forbidden', 'Only a signed-in user has a password; API keys do not');
  const row = await getUserRow(db, auth.workspaceId, auth.userId);
  if (!row) throw notFound('User');
  if (!(await verifyPassword(current, row.password_hash))) throw new ApiError('validation_failed', 'The current password is incorrect');
  await updateUser(db, auth.workspaceId, row.id, { password_hash: await hashPassword(next), must_change_password: 0 });
  await deleteUserSessions(db, row.id, sessionId(currentToken));
}

export async function getUser(db: Db, workspaceId: string, id: string): Promise<User | null> {
  const row = await getUserRow(db, workspaceId, id);
  return row ? toUser(row) : null;
}
