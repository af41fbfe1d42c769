import type { Db } from '../storage/db.ts';
import { newId } from '../util/ids.ts';
import { hashApiKey, newApiKey } from '../util/secrets.ts';

export const ROLES = ['admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface Workspace {
  id: string;
  name: string;
  autoPauseThreshold: number;
  createdAt: number;
}

export interface AuthContext {
  workspaceId: string;
  role: Role;
  /** The API key's id; `session:<userId>` for a signed-in user of the web app. */
  keyId: string;
  /** Set when a session cookie (a person), not an API key, authenticated the request. */
  userId?: string;
}

export const DEFAULT_WORKSPACE = 'default';

function toWorkspace(row: { id: string; name: string; auto_pause_threshold: number; created_at: number }): Workspace {
  return { id: row.id, name: row.name, autoPauseThreshold: row.auto_pause_threshold, createdAt: row.created_at };
}

export async function findWorkspaceByName(db: Db, name: string): Promise<Workspace | null> {
  const row = await db.k.selectFrom('workspaces').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? toWorkspace(row) : null;
}

export async function getWorkspace(db: Db, id: string): Promise<Workspace | null> {
  const row = await db.k.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toWorkspace(row) : null;
}

/** Returns the workspace with this name, creating it when missing (safe against a concurrent create). */
export async function ensureWorkspace(db: Db, name: string): Promise<Workspace> {
  const existing = await findWorkspaceByName(db, name);
  if (existing) return existing;
  await db.k
    .insertInto('workspaces')
    .values({ id: newId(), name, auto_pause_threshold: 5, created_at: Date.now() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const created = await findWorkspaceByName(db, name);
  if (!created) throw new Error(`workspace ${name} could not be created`);
  return created;
}

export async function updateWorkspaceSettings(db: Db, id: string, patch: { autoPauseThreshold?: number }): Promise<void> {
  if (patch.autoPauseThreshold !== undefined) {
    await db.k.updateTable('workspaces').set({ auto_pause_threshold: patch.autoPauseThreshold }).where('id', '=', id).execute();
  }
}

/** Creates an API key and returns its secret; only the hash is stored. */
export async function createApiKey(db: Db, workspaceId: string, opts: { role: Role; name: string; secret?: string }): Promise<{ id: string; key: string }> {
  const key = opts.secret ?? newApiKey();
  const id = newId();
  await db.k
    .insertInto('api_keys')
    .values({ id, workspace_id: workspaceId, name: opts.name, key_hash: hashApiKey(key), prefix: key.slice(0, 9), role: opts.role, created_at: Date.now(), last_used_at: null, revoked_at: null })
    .execute();
  return { id, key };
}

export async function apiKeyExists(db: Db, secret: string): Promise<boolean> {
  const row = await db.k.selectFrom('api_keys').select('id').where('key_hash', '=', hashApiKey(secret)).executeTakeFirst();
  return row !== undefined;
}

export async function countApiKeys(db: Db): Promise<number> {
  const row = await db.k.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function authenticateApiKey(db: Db, secret: string): Promise<AuthContext | null> {
  const row = await db.k
    .selectFrom('api_keys')
    .select(['id', 'workspace_id', 'role'])
    .where('key_hash', '=', hashApiKey(secret))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  return { workspaceId: row.workspace_id, role: row.role as Role, keyId: row.id };
}
