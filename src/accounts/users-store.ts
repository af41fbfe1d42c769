import type { Db } from '../storage/db.ts';
import type { UserTable } from '../storage/schema.ts';
import type { Role } from '../workspaces/workspaces-store.ts';

export interface User {
  id: string;
  workspaceId: string;
  email: string;
  name: string;
  role: Role;
  mustChangePassword: boolean;
  createdAt: number;
  lastLoginAt: number | null;
  disabledAt: number | null;
}

export function toUser(row: UserTable): User {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    email: row.email,
    name: row.name,
    role: row.role as Role,
    mustChangePassword: row.must_change_password === 1,
    createdAt: row.created_at,
    lastLoginAt: row.last_login_at,
    disabledAt: row.disabled_at,
  };
}

/** Emails are compared case-insensitively: stored lower-cased and trimmed. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function countUsers(db: Db): Promise<number> {
  const row = await db.k.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertUser(db: Db, row: UserTable): Promise<User> {
  await db.k.insertInto('users').values(row).execute();
  return toUser(row);
}

export async function findUserByEmail(db: Db, email: string): Promise<UserTable | null> {
  return (await db.k.selectFrom('users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst()) ?? null;
}

export async function getUserRow(db: Db, workspaceId: string, id: string): Promise<UserTable | null> {
  return (await db.k.selectFrom('users').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst()) ?? null;
}

export async function listUsers(db: Db, workspaceId: string): Promise<User[]> {
  const rows = await db.k.selectFrom('users').selectAll().where('workspace_id', '=', workspaceId).orderBy('created_at').orderBy('id').execute();
  return rows.map(toUser);
}

export async function updateUser(db: Db, workspaceId: string, id: string, patch: Partial<Pick<UserTable, 'name' | 'role' | 'password_hash' | 'must_change_password' | 'disabled_at' | 'last_login_at'>>): Promise<void> {
  if (Object.keys(patch).length === 0) return;
  await db.k.updateTable('users').set(patch).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
}

export async function deleteUser(db: Db, workspaceId: string, id: string): Promise<boolean> {
  const res = await db.k.deleteFrom('users').where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** Enabled admins of a workspace (a workspace must always keep one). */
export async function countActiveAdmins(db: Db, workspaceId: string): Promise<number> {
  const row = await db.k
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertSession(db: Db, row: { id: string; user_id: string; expires_at: number; created_at: number }): Promise<void> {
  await db.k.insertInto('sessions').values(row).execute();
}

/** The enabled user behind an unexpired session, or null. */
export async function findSessionUser(db: Db, sessionId: string, now = Date.now()): Promise<UserTable | null> {
  const row = await db.k
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('users')
    .where('sessions.id', '=', sessionId)
    .where('sessions.expires_at', '>', now)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
  return row ?? null;
}

export async function deleteSession(db: Db, sessionId: string): Promise<void> {
  await db.k.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

/** Signs a user out everywhere (password change, disable), optionally keeping one session. */
export async function deleteUserSessions(db: Db, userId: string, keep?: string): Promise<void> {
  let q = db.k.deleteFrom('sessions').where('user_id', '=', userId);
  if (keep) q = q.where('id', '!=', keep);
  await q.execute();
}

export async function deleteExpiredSessions(db: Db, now = Date.now()): Promise<number> {
  const res = await db.k.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(res.numDeletedRows);
}
