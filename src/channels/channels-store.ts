import type { Db } from '../storage/db.ts';
import type { ChannelTable } from '../storage/schema.ts';
import { newId } from '../util/ids.ts';
import { decryptJson, encryptJson } from '../util/secrets.ts';
import type { ChannelRuntime, ProviderName } from '../providers/types.ts';

export type ChannelStatus = 'ok' | 'auth_failed';

export interface Channel {
  id: string;
  workspaceId: string;
  name: string;
  provider: ProviderName;
  rateLimitPerSecond: number;
  settings: Record<string, unknown>;
  status: ChannelStatus;
  statusMessage: string | null;
  createdAt: number;
  updatedAt: number;
}

function toChannel(row: ChannelTable): Channel {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    provider: row.provider as ProviderName,
    rateLimitPerSecond: Number(row.rate_limit_per_second),
    settings: JSON.parse(row.settings) as Record<string, unknown>,
    status: row.status as ChannelStatus,
    statusMessage: row.status_message,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface NewChannel {
  name: string;
  provider: ProviderName;
  credentials: Record<string, unknown>;
  rateLimitPerSecond: number;
  settings: Record<string, unknown>;
}

export async function insertChannel(db: Db, secretKey: Buffer, workspaceId: string, input: NewChannel): Promise<Channel> {
  const now = Date.now();
  const row: ChannelTable = {
    id: newId(),
    workspace_id: workspaceId,
    name: input.name,
    provider: input.provider,
    credentials_enc: encryptJson(secretKey, input.credentials),
    rate_limit_per_second: input.rateLimitPerSecond,
    settings: JSON.stringify(input.settings),
    status: 'ok',
    status_message: null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  await db.k.transaction().execute(async (tx) => {
    await tx.insertInto('channels').values(row).execute();
    await tx.insertInto('channel_pacing').values({ channel_id: row.id, tat: 0, blocked_until: 0 }).execute();
  });
  return toChannel(row);
}

export async function getChannel(db: Db, workspaceId: string, id: string): Promise<Channel | null> {
  const row = await db.k
    .selectFrom('channels')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row ? toChannel(row) : null;
}

export async function listChannels(db: Db, workspaceId: string): Promise<Channel[]> {
  const rows = await db.k
    .selectFrom('channels')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map(toChannel);
}

export interface ChannelPatch {
  name?: string;
  credentials?: Record<string, unknown>;
  rateLimitPerSecond?: number;
  settings?: Record<string, unknown>;
}

export async function updateChannel(db: Db, secretKey: Buffer, workspaceId: string, id: string, patch: ChannelPatch): Promise<Channel | null> {
  const set: Partial<ChannelTable> = { updated_at: Date.now() };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.rateLimitPerSecond !== undefined) set.rate_limit_per_second = patch.rateLimitPerSecond;
  if (patch.settings !== undefined) set.settings = JSON.stringify(patch.settings);
  if (patch.credentials !== undefined) {
    set.credentials_enc = encryptJson(secretKey, patch.credentials);
    // New credentials clear a previous "credentials invalid" flag; the next send or test tells.
    set.status = 'ok';
    set.status_message = null;
  }
  await db.k.updateTable('channels').set(set).where('workspace_id', '=', workspaceId).where('id', '=', id).where('deleted_at', 'is', null).execute();
  return getChannel(db, workspaceId, id);
}

export async function softDeleteChannel(db: Db, workspaceId: string, id: string): Promise<void> {
  await db.k.updateTable('channels').set({ deleted_at: Date.now() }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
}

export async function setChannelStatus(db: Db, id: string, status: ChannelStatus, message: string | null): Promise<void> {
  await db.k.updateTable('channels').set({ status, status_message: message, updated_at: Date.now() }).where('id', '=', id).execute();
}

/** The channel as the engine and adapters need it, credentials decrypted (workspace-agnostic). */
export async function loadChannelRuntime(db: Db, secretKey: Buffer, id: string): Promise<(ChannelRuntime & { rateLimitPerSecond: number; workspaceId: string; deleted: boolean }) | null> {
  const row = await db.k.selectFrom('channels').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    provider: row.provider as ProviderName,
    credentials: decryptJson<Record<string, unknown>>(secretKey, row.credentials_enc),
    settings: JSON.parse(row.settings) as Record<string, unknown>,
    rateLimitPerSecond: Number(row.rate_limit_per_second),
    deleted: row.deleted_at !== null,
  };
}

/** Count of campaigns of the channel that are still going to send (blocks deletion). */
export async function countActiveCampaigns(db: Db, channelId: string): Promise<number> {
  const row = await db.k
    .selectFrom('campaigns')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('channel_id', '=', channelId)
    .where('status', 'in', ['scheduled', 'sending', 'paused'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
