import type { Db } from '../storage/db.ts';
import type { CampaignTable } from '../storage/schema.ts';
import type { MessageContent } from '../providers/types.ts';
import type { Audience } from './campaign-schemas.ts';
import type { CampaignStatus } from './lifecycle.ts';

export interface Campaign {
  id: string;
  workspaceId: string;
  name: string;
  status: CampaignStatus;
  channelId: string;
  message: MessageContent;
  audience: Audience;
  stats: { total: number; sent: number; failed: number; skipped: number; pending: number; delivered: number; read: number };
  scheduledAt: number | null;
  startedAt: number | null;
  completedAt: number | null;
  createdAt: number;
  updatedAt: number;
  pauseReason: string | null;
  statusReason: string | null;
  parentCampaignId: string | null;
  audienceFixed: boolean;
}

export function toCampaign(row: CampaignTable): Campaign {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    status: row.status as CampaignStatus,
    channelId: row.channel_id,
    message: JSON.parse(row.message) as MessageContent,
    audience: JSON.parse(row.audience) as Audience,
    stats: {
      total: row.total,
      sent: row.sent,
      failed: row.failed,
      skipped: row.skipped,
      pending: row.total - row.sent - row.failed - row.skipped,
      delivered: row.delivered,
      read: row.read,
    },
    scheduledAt: row.scheduled_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    pauseReason: row.pause_reason,
    statusReason: row.status_reason,
    parentCampaignId: row.parent_campaign_id,
    audienceFixed: row.audience_fixed === 1,
  };
}

export interface NewCampaign {
  id: string;
  name: string;
  channelId: string;
  message: MessageContent;
  audience: Audience;
  status: 'draft' | 'scheduled';
  scheduledAt: number | null;
  parentCampaignId: string | null;
}

export async function insertCampaign(db: Db, workspaceId: string, c: NewCampaign): Promise<Campaign> {
  const now = Date.now();
  const row: CampaignTable = {
    id: c.id, workspace_id: workspaceId, name: c.name, status: c.status, channel_id: c.channelId,
    message: JSON.stringify(c.message), audience: JSON.stringify(c.audience),
    scheduled_at: c.scheduledAt, started_at: null, completed_at: null, created_at: now, updated_at: now,
    pause_reason: null, status_reason: null, parent_campaign_id: c.parentCampaignId,
    total: 0, sent: 0, failed: 0, skipped: 0, delivered: 0, read: 0, consecutive_failures: 0, audience_fixed: 0, audience_cursor: null,
  };
  await db.k.insertInto('campaigns').values(row).execute();
  return toCampaign(row);
}

export async function getCampaign(db: Db, workspaceId: string, id: string): Promise<Campaign | null> {
  const row = await db.k.selectFrom('campaigns').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  return row ? toCampaign(row) : null;
}

/** Any workspace: for the engine, which works across tenants. */
export async function getCampaignById(db: Db, id: string): Promise<Campaign | null> {
  const row = await db.k.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toCampaign(row) : null;
}

/** Newest first; the cursor is the last id of the previous page. */
export async function listCampaigns(db: Db, workspaceId: string, f: { status?: string; before?: string | null; limit: number }) {
  let q = db.k.selectFrom('campaigns').selectAll().where('workspace_id', '=', workspaceId);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.before) q = q.where('id', '<', f.before);
  const rows = await q.orderBy('id', 'desc').limit(f.limit + 1).execute();
  const page = rows.slice(0, f.limit);
  return { items: page.map(toCampaign), last: page.length ? page[page.length - 1].id : null, more: rows.length > f.limit };
}

/**
 * Moves a campaign to a new status only if it is still in one of `from` (compare-and-set), so
 * two concurrent actions, or an action racing the engine, cannot both win. Returns the updated
 * campaign, or null when the status had changed.
 */
export async function transitionCampaign(
  db: Db,
  workspaceId: string | null,
  id: string,
  from: readonly CampaignStatus[],
  set: Partial<Omit<CampaignTable, 'id' | 'workspace_id'>>,
): Promise<Campaign | null> {
  let q = db.k.updateTable('campaigns').set({ ...set, updated_at: Date.now() }).where('id', '=', id).where('status', 'in', [...from]);
  if (workspaceId !== null) q = q.where('workspace_id', '=', workspaceId);
  const res = await q.executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) return null;
  return getCampaignById(db, id);
}

export async function deleteCampaign(db: Db, workspaceId: string, id: string, from: readonly CampaignStatus[]): Promise<boolean> {
  const res = await db.k.deleteFrom('campaigns').where('workspace_id', '=', workspaceId).where('id', '=', id).where('status', 'in', [...from]).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}
