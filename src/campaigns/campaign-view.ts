import type { Campaign } from './campaigns-store.ts';
import { actionsFor } from './lifecycle.ts';
import type { ProgressEvent } from '../events/types.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The API's shape of a campaign. */
export function campaignView(c: Campaign) {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    channelId: c.channelId,
    message: c.message,
    audience: c.audience,
    stats: c.stats,
    timeline: { createdAt: iso(c.createdAt), scheduledAt: iso(c.scheduledAt), startedAt: iso(c.startedAt), completedAt: iso(c.completedAt) },
    completionTimeMs: c.completedAt !== null && c.startedAt !== null ? c.completedAt - c.startedAt : null,
    pauseReason: c.pauseReason,
    statusReason: c.statusReason,
    parentCampaignId: c.parentCampaignId,
    actions: actionsFor(c.status),
  };
}

/** A progress event carrying a campaign's current state (status changes made by the API). */
export function stateEvent(c: Campaign, extra: Partial<ProgressEvent> = {}): ProgressEvent {
  return {
    type: 'campaign.progress',
    workspaceId: c.workspaceId,
    campaignId: c.id,
    status: c.status,
    stats: c.stats,
    ratePerSecond: 0,
    etaSeconds: null,
    pauseReason: c.pauseReason,
    ...(c.status === 'paused' ? { waitingReason: 'paused' } : c.status === 'scheduled' ? { waitingReason: 'scheduled' } : {}),
    at: new Date().toISOString(),
    ...extra,
  };
}
