import { stringify } from 'csv-stringify';
import type { AppContext } from '../../app-context.ts';
import { campaignCreate, campaignListQuery, campaignPatch, recipientListQuery, retryFailedBody, scheduleBody } from '../../campaigns/campaign-schemas.ts';
import * as service from '../../campaigns/campaign-service.ts';
import { campaignView } from '../../campaigns/campaign-view.ts';
import { getCampaign, listCampaigns } from '../../campaigns/campaigns-store.ts';
import { failureSummary, iterateRecipients, listRecipients } from '../../campaigns/recipients-store.ts';
import { decodeCursor, encodeCursor } from '../../util/ids.ts';
import { ApiError, notFound } from '../errors.ts';
import type { Routes } from '../route-kit.ts';
import { z } from 'zod';

const RECIPIENT_CSV_COLUMNS = ['id', 'contactId', 'name', 'providerUserId', 'status', 'errorClass', 'errorCode', 'errorMessage', 'providerMessageId', 'attempts', 'sentAt', 'failedAt', 'deliveredAt', 'readAt'] as const;

export function campaignRoutes(r: Routes, ctx: AppContext): void {
  const one = async (workspaceId: string, id: string) => {
    const c = await getCampaign(ctx.db, workspaceId, id);
    if (!c) throw notFound('Campaign');
    return c;
  };

  r.add({
    method: 'POST', url: '/api/v1/campaigns', tag: 'campaigns', role: 'operator', body: campaignCreate,
    summary: 'Create a campaign (draft, or scheduled when scheduledAt is given)',
    success: { status: 201, description: 'The campaign' },
    handler: async ({ auth, body }) => campaignView(await service.createCampaign(ctx, auth.workspaceId, body)),
  });
  r.add({
    method: 'GET', url: '/api/v1/campaigns', tag: 'campaigns', role: 'viewer', query: campaignListQuery, summary: 'List campaigns, newest first',
    success: { status: 200, description: '{items, nextCursor}' },
    handler: async ({ auth, query }) => {
      const page = await listCampaigns(ctx.db, auth.workspaceId, { status: query.status, before: decodeCursor(query.cursor), limit: query.limit });
      return { items: page.items.map(campaignView), nextCursor: page.more && page.last ? encodeCursor(page.last) : null };
    },
  });
  r.add({
    method: 'GET', url: '/api/v1/campaigns/{id}', tag: 'campaigns', role: 'viewer', summary: 'Get a campaign with its statistics and timeline',
    success: { status: 200, description: 'The campaign' },
    handler: async ({ auth, params }) => campaignView(await one(auth.workspaceId, params.id)),
  });
  r.add({
    method: 'PATCH', url: '/api/v1/campaigns/{id}', tag: 'campaigns', role: 'operator', body: campaignPatch,
    summary: 'Edit a draft or scheduled campaign (scheduledAt reschedules)',
    success: { status: 200, description: 'The campaign' },
    handler: async ({ auth, params, body }) => campaignView(await service.editCampaign(ctx, auth.workspaceId, params.id, body)),
  });
  r.add({
    method: 'DELETE', url: '/api/v1/campaigns/{id}', tag: 'campaigns', role: 'operator', summary: 'Delete a draft campaign',
    success: { status: 204, description: 'Deleted' },
    handler: async ({ auth, params }) => service.removeCampaign(ctx, auth.workspaceId, params.id),
  });
  r.add({
    method: 'GET', url: '/api/v1/campaigns/{id}/audience-preview', tag: 'campaigns', role: 'viewer', summary: 'How many unique contacts the audience has now',
    success: { status: 200, description: '{count}' },
    handler: async ({ auth, params }) => ({ count: await service.audiencePreview(ctx, auth.workspaceId, params.id) }),
  });

  const action = (name: string, summary: string, run: (ws: string, id: string, body: any) => Promise<unknown>, body?: z.ZodType, status = 200) =>
    r.add({
      method: 'POST', url: `/api/v1/campaigns/{id}/${name}`, tag: 'campaigns', role: 'operator', summary, body,
      success: { status, description: 'The campaign' },
      handler: async ({ auth, params, body: b }) => campaignView((await run(auth.workspaceId, params.id, b)) as never),
    });
  action('send', 'Send now (draft or scheduled → sending)', (ws, id) => service.sendCampaign(ctx, ws, id));
  action('schedule', 'Schedule or reschedule (scheduledAt must be in the future)', (ws, id, b) => service.scheduleCampaign(ctx, ws, id, b.scheduledAt), scheduleBody);
  action('cancel', 'Cancel: scheduled → draft; sending or paused → cancelled', (ws, id) => service.cancelCampaign(ctx, ws, id));
  action('pause', 'Pause a sending campaign', (ws, id) => service.pauseCampaign(ctx, ws, id));
  action('resume', 'Resume a paused campaign', (ws, id) => service.resumeCampaign(ctx, ws, id));
  action('retry-failed', 'New draft campaign whose audience is the failed recipients ({"onlyRetryable": true} keeps retryable failures only)',
    (ws, id, b) => service.retryFailed(ctx, ws, id, b?.onlyRetryable ?? false), retryFailedBody.optional() as unknown as z.ZodType, 201);

  r.add({
    method: 'GET', url: '/api/v1/campaigns/{id}/recipients', tag: 'campaigns', role: 'viewer', query: recipientListQuery,
    summary: 'Recipients with their status and errors (filter by status, errorClass)',
    success: { status: 200, description: '{items, nextCursor}' },
    handler: async ({ auth, params, query }) => {
      await one(auth.workspaceId, params.id);
      const rawCursor = decodeCursor(query.cursor);
      const after = rawCursor === null ? null : Number(rawCursor);
      if (after !== null && !Number.isInteger(after)) throw new ApiError('invalid_cursor', 'cursor is not valid');
      const page = await listRecipients(ctx.db, params.id, { status: query.status, errorClass: query.errorClass, after, limit: query.limit });
      return { items: page.items, nextCursor: page.more && page.last !== null ? encodeCursor(page.last) : null };
    },
  });
  r.add({
    method: 'GET', url: '/api/v1/campaigns/{id}/failures', tag: 'campaigns', role: 'viewer', summary: 'Failed recipients grouped by failure class and provider code',
    success: { status: 200, description: '{items:[{errorClass, errorCode, count, sampleMessage}]}' },
    handler: async ({ auth, params }) => {
      await one(auth.workspaceId, params.id);
      return { items: await failureSummary(ctx.db, params.id), nextCursor: null };
    },
  });
  r.add({
    method: 'GET', url: '/api/v1/campaigns/{id}/recipients.csv', tag: 'campaigns', role: 'viewer',
    query: z.strictObject({ status: z.enum(['pending', 'sent', 'failed', 'skipped']).optional() }),
    summary: 'Every recipient as CSV (streamed; a header row, then one row per recipient)',
    success: { status: 200, description: 'text/csv' },
    handler: async ({ auth, params, query, reply }) => {
      const c = await one(auth.workspaceId, params.id);
      const csv = stringify({ header: true, columns: [...RECIPIENT_CSV_COLUMNS] });
      reply.header('content-type', 'text/csv; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="campaign-${c.id}-recipients.csv"`);
      void (async () => {
        try {
          for await (const page of iterateRecipients(ctx.db, c.id, query.status)) {
            for (const row of page) if (!csv.write(row)) await new Promise((res) => csv.once('drain', res));
          }
          csv.end();
        } catch (err) {
          ctx.log.error({ err, campaignId: c.id }, 'recipient export failed');
          csv.destroy(err as Error);
        }
      })();
      return reply.send(csv);
    },
  });
}
