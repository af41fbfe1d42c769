import type { z } from 'zod';
import { setImmediate as turn } from 'node:timers/promises';
import type { AppContext } from '../app-context.ts';
import { ApiError, notFound } from '../http/errors.ts';
import { getChannel } from '../channels/channels-store.ts';
import { getAdapter } from '../providers/registry.ts';
import type { MessageContent } from '../providers/types.ts';
import { newId } from '../util/ids.ts';
import { countAudience, fixAudienceBatch } from './audience.ts';
import type { Audience, campaignCreate, campaignPatch } from './campaign-schemas.ts';
import { deleteCampaign, getCampaign, insertCampaign, transitionCampaign, type Campaign } from './campaigns-store.ts';
import { stateEvent } from './campaign-view.ts';
import { allowedStatuses, isAllowed, type CampaignAction } from './lifecycle.ts';
import { skipUnsentRecipients } from './recipient-outcomes.ts';

/** How long a send request fixes the audience itself before leaving the rest to the engine. */
const INLINE_FIX_BUDGET_MS = 1000;

function refuse(action: CampaignAction, c: Campaign): ApiError {
  return new ApiError('invalid_status', `Cannot ${action.replace('-', ' ')} a campaign that is ${c.status}; allowed when ${allowedStatuses(action).join(' or ')}`, { status: c.status });
}

async function load(ctx: AppContext, workspaceId: string, id: string): Promise<Campaign> {
  const c = await getCampaign(ctx.db, workspaceId, id);
  if (!c) throw notFound('Campaign');
  return c;
}

function assertAllowed(action: CampaignAction, c: Campaign): void {
  if (!isAllowed(action, c.status)) throw refuse(action, c);
}

/** After a lost compare-and-set: the campaign changed under us, so answer with its new status. */
async function conflict(ctx: AppContext, workspaceId: string, id: string, action: CampaignAction): Promise<never> {
  throw refuse(action, await load(ctx, workspaceId, id));
}

function futureTime(iso: string): number {
  const t = Date.parse(iso);
  if (!(t > Date.now())) throw new ApiError('schedule_in_past', `scheduledAt ${iso} is not in the future`);
  return t;
}

async function checkChannelAndMessage(ctx: AppContext, workspaceId: string, channelId: string, message: MessageContent) {
  const channel = await getChannel(ctx.db, workspaceId, channelId);
  if (!channel) throw new ApiError('unknown_channel', `Channel ${channelId} does not exist`);
  const problems = getAdapter(channel.provider).validateMessage(message);
  if (problems.length) throw new ApiError('content_invalid', `Message not accepted by ${channel.provider}: ${problems.join('; ')}`, problems);
  return channel;
}

function publish(ctx: AppContext, c: Campaign | null): Campaign {
  if (!c) throw new Error('campaign vanished during a transition');
  ctx.bus.publish(stateEvent(c));
  return c;
}

export async function createCampaign(ctx: AppContext, workspaceId: string, body: z.infer<typeof campaignCreate>): Promise<Campaign> {
  await checkChannelAndMessage(ctx, workspaceId, body.channelId, body.message);
  const scheduledAt = body.scheduledAt !== undefined ? futureTime(body.scheduledAt) : null;
  const c = await insertCampaign(ctx.db, workspaceId, {
    id: newId(), name: body.name, channelId: body.channelId, message: body.message, audience: body.audience,
    status: scheduledAt !== null ? 'scheduled' : 'draft', scheduledAt, parentCampaignId: null,
  });
  if (scheduledAt !== null) ctx.wake();
  return c;
}

export async function editCampaign(ctx: AppContext, workspaceId: string, id: string, body: z.infer<typeof campaignPatch>): Promise<Campaign> {
  const c = await load(ctx, workspaceId, id);
  assertAllowed('edit', c);
  const channelId = body.channelId ?? c.channelId;
  const message = body.message ?? c.message;
  if (body.channelId !== undefined || body.message !== undefined) await checkChannelAndMessage(ctx, workspaceId, channelId, message);
  const scheduledAt = body.scheduledAt !== undefined ? futureTime(body.scheduledAt) : undefined;
  const updated = await transitionCampaign(ctx.db, workspaceId, id, allowedStatuses('edit'), {
    ...(body.name !== undefined ? { name: body.name } : {}),
    channel_id: channelId,
    message: JSON.stringify(message),
    ...(body.audience !== undefined ? { audience: JSON.stringify(body.audience) } : {}),
    ...(scheduledAt !== undefined ? { scheduled_at: scheduledAt, status: 'scheduled' } : {}),
  });
  if (!updated) return conflict(ctx, workspaceId, id, 'edit');
  if (scheduledAt !== undefined) {
    ctx.wake();
    return publish(ctx, updated);
  }
  return updated;
}

export async function removeCampaign(ctx: AppContext, workspaceId: string, id: string): Promise<void> {
  const c = await load(ctx, workspaceId, id);
  assertAllowed('delete', c);
  if (!(await deleteCampaign(ctx.db, workspaceId, id, allowedStatuses('delete')))) await conflict(ctx, workspaceId, id, 'delete');
}

export async function audiencePreview(ctx: AppContext, workspaceId: string, id: string): Promise<number> {
  const c = await load(ctx, workspaceId, id);
  return countAudience(ctx.db, workspaceId, c.channelId, c.audience);
}

/** Draft or scheduled → sending: fixes the audience (inline for up to a second) and wakes the engine. */
export async function sendCampaign(ctx: AppContext, workspaceId: string, id: string): Promise<Campaign> {
  const c = await load(ctx, workspaceId, id);
  assertAllowed('send', c);
  const channel = await getChannel(ctx.db, workspaceId, c.channelId);
  if (!channel) throw new ApiError('unknown_channel', `The campaign's channel ${c.channelId} no longer exists`);
  const size = await countAudience(ctx.db, workspaceId, c.channelId, c.audience);
  if (size === 0) throw new ApiError('empty_audience', 'The audience is empty: no channel member matches it (opted-out members are excluded)');
  const started = await transitionCampaign(ctx.db, workspaceId, id, allowedStatuses('send'), {
    status: 'sending', started_at: Date.now(), consecutive_failures: 0, pause_reason: null, status_reason: null,
  });
  if (!started) return conflict(ctx, workspaceId, id, 'send');
  const deadline = Date.now() + INLINE_FIX_BUDGET_MS;
  // A turn of the event loop between slices, so other requests are answered meanwhile.
  while (Date.now() < deadline && !(await fixAudienceBatch(ctx.db, started))) await turn();
  ctx.wake();
  return publish(ctx, await getCampaign(ctx.db, workspaceId, id));
}

export async function scheduleCampaign(ctx: AppContext, workspaceId: string, id: string, scheduledAtIso: string): Promise<Campaign> {
  const c = await load(ctx, workspaceId, id);
  assertAllowed('schedule', c);
  const at = futureTime(scheduledAtIso);
  const updated = await transitionCampaign(ctx.db, workspaceId, id, allowedStatuses('schedule'), { status: 'scheduled', scheduled_at: at });
  if (!updated) return conflict(ctx, workspaceId, id, 'schedule');
  ctx.wake();
  return publish(ctx, updated);
}

/** Scheduled → draft; sending or paused → cancelled (recipients not yet sent are skipped). */
export async function cancelCampaign(ctx: AppContext, workspaceId: string, id: string): Promise<Campaign> {
  const c = await load(ctx, workspaceId, id);
  assertAllowed('cancel', c);
  if (c.status === 'scheduled') {
    const back = await transitionCampaign(ctx.db, workspaceId, id, ['scheduled'], { status: 'draft', scheduled_at: null });
    if (!back) return conflict(ctx, workspaceId, id, 'cancel');
    ctx.wake();
    return publish(ctx, back);
  }
  const now = Date.now();
  const ended = await transitionCampaign(ctx.db, workspaceId, id, ['sending', 'paused'], { status: 'cancelled', completed_at: now, audience_fixed: 1, status_reason: 'Cancelled by a user' });
  if (!ended) return conflict(ctx, workspaceId, id, 'cancel');
  await skipUnsentRecipients(ctx.db, id, 'Campaign cancelled before this recipient was sent');
  return publish(ctx, await getCampaign(ctx.db, workspaceId, id));
}

export async function pauseCampaign(ctx: AppContext, workspaceId: string, id: string): Promise<Campaign> {
  const c = await load(ctx, workspaceId, id);
  assertAllowed('pause', c);
  const paused = await transitionCampaign(ctx.db, workspaceId, id, ['sending'], { status: 'paused', pause_reason: 'Paused by a user' });
  if (!paused) return conflict(ctx, workspaceId, id, 'pause');
  return publish(ctx, paused);
}

export async function resumeCampaign(ctx: AppContext, workspaceId: string, id: string): Promise<Campaign> {
  const c = await load(ctx, workspaceId, id);
  assertAllowed('resume', c);
  const resumed = await transitionCampaign(ctx.db, workspaceId, id, ['paused'], { status: 'sending', pause_reason: null, consecutive_failures: 0 });
  if (!resumed) return conflict(ctx, workspaceId, id, 'resume');
  ctx.wake();
  return publish(ctx, resumed);
}

/** A new draft whose audience is exactly the failed recipients of this one. */
export async function retryFailed(ctx: AppContext, workspaceId: string, id: string, onlyRetryable: boolean): Promise<Campaign> {
  const c = await load(ctx, workspaceId, id);
  assertAllowed('retry-failed', c);
  const audience: Audience = { type: 'failed_recipients', campaignId: c.id, onlyRetryable };
  const size = await countAudience(ctx.db, workspaceId, c.channelId, audience);
  if (size === 0) {
    throw new ApiError('empty_audience', onlyRetryable ? 'No failed recipient of this campaign has a retryable failure (or all opted out)' : 'No failed recipient of this campaign can be sent to again (all opted out)');
  }
  return insertCampaign(ctx.db, workspaceId, {
    id: newId(), name: `${c.name} (retry)`.slice(0, 200), channelId: c.channelId, message: c.message, audience,
    status: 'draft', scheduledAt: null, parentCampaignId: c.id,
  });
}
