import type { Db } from '../storage/db.ts';
import type { Role } from '../workspaces/workspaces-store.ts';

/** What the API shows of a key: never the secret or its hash, only the first characters. */
export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

const COLUMNS = ['id', 'name', 'prefix', 'role', 'created_at', 'last_used_at', 'revoked_at'] as const;

function toView(r: { id: string; name: string; prefix: string; role: string; created_at: number; last_used_at: number | null; revoked_at: number | null }): ApiKeyView {
  return { id: r.id, name: r.name, prefix: r.prefix, role: r.role as Role, createdAt: iso(r.created_at)!, lastUsedAt: iso(r.last_used_at), revokedAt: iso(r.revoked_at) };
}

/** Newest first; revoked keys stay listed (greyed out in the UI) so the audit trail is visible. */
export async function listApiKeys(db: Db, workspaceId: string): Promise<ApiKeyView[]> {
  const rows = await db.k.selectFrom('api_keys').select(COLUMNS).where('workspace_id', '=', workspaceId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
  return rows.map(toView);
}

export async function getApiKey(db: Db, workspaceId: string, id: string): Promise<ApiKeyView | null> {
  const row = await db.k.selectFrom('api_keys').select(COLUMNS).where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  return row ? toView(row) : null;
}

/** Revokes a key at once: the next request with it is a 401. Returns false when it is unknown. */
export async function revokeApiKey(db: Db, workspaceId: string, id: string): Promise<boolean> {
  const exists = await db.k.selectFrom('api_keys').select('revoked_at').where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  if (!exists) return false;
  if (exists.revoked_at === null) await db.k.updateTable('api_keys').set({ revoked_at: Date.now() }).where('id', '=', id).execute();
  return true;
}
