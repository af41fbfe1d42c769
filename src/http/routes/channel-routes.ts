import type { AppContext } from '../../app-context.ts';
import { channelCreate, channelPatch } from '../../channels/channel-schemas.ts';
import { countActiveCampaigns, getChannel, insertChannel, listChannels, loadChannelRuntime, softDeleteChannel, updateChannel, setChannelStatus, type Channel } from '../../channels/channels-store.ts';
import { getAdapter, hasAdapter } from '../../providers/registry.ts';
import { ApiError, notFound } from '../errors.ts';
import type { Routes } from '../route-kit.ts';

export function channelView(ctx: AppContext, c: Channel) {
  return {
    id: c.id,
    name: c.name,
    provider: c.provider,
    rateLimitPerSecond: c.rateLimitPerSecond,
    settings: c.settings,
    status: c.status,
    statusMessage: c.statusMessage,
    webhookUrl: `${ctx.config.publicUrl}/webhooks/${c.id}`,
    createdAt: new Date(c.createdAt).toISOString(),
    updatedAt: new Date(c.updatedAt).toISOString(),
  };
}

function adapterFor(provider: string) {
  if (!hasAdapter(provider)) throw new ApiError('validation_failed', `Provider ${provider} is not available in this version of Herald`);
  return getAdapter(provider);
}

/** The provider's adapter, after checking the credentials carry every field it needs. */
function checkedAdapter(provider: string, credentials: Record<string, unknown> | undefined) {
  const adapter = adapterFor(provider);
  const missing = credentials ? adapter.validateCredentials(credentials) : [];
  if (missing.length) throw new ApiError('validation_failed', `Credentials incomplete for ${provider}: ${missing.join('; ')}`, missing);
  return adapter;
}

export function channelRoutes(r: Routes, ctx: AppContext): void {
  r.add({
    method: 'POST', url: '/api/v1/channels', tag: 'channels', role: 'admin', summary: 'Connect a channel', body: channelCreate,
    success: { status: 201, description: 'The channel (credentials are never returned)' },
    handler: async ({ auth, body }) => {
      const adapter = checkedAdapter(body.provider, body.credentials);
      const channel = await insertChannel(ctx.db, ctx.config.secretKey, auth.workspaceId, {
        name: body.name, provider: body.provider, credentials: body.credentials,
        rateLimitPerSecond: body.rateLimitPerSecond ?? adapter.defaultRatePerSecond, settings: body.settings,
      });
      return channelView(ctx, channel);
    },
  });
  r.add({
    method: 'GET', url: '/api/v1/channels', tag: 'channels', role: 'viewer', summary: 'List channels',
    success: { status: 200, description: '{items, nextCursor}' },
    handler: async ({ auth }) => ({ items: (await listChannels(ctx.db, auth.workspaceId)).map((c) => channelView(ctx, c)), nextCursor: null }),
  });
  r.add({
    method: 'GET', url: '/api/v1/channels/{id}', tag: 'channels', role: 'viewer', summary: 'Get a channel',
    success: { status: 200, description: 'The channel' },
    handler: async ({ auth, params }) => {
      const c = await getChannel(ctx.db, auth.workspaceId, params.id);
      if (!c) throw notFound('Channel');
      return channelView(ctx, c);
    },
  });
  r.add({
    method: 'PATCH', url: '/api/v1/channels/{id}', tag: 'channels', role: 'admin', summary: 'Update a channel', body: channelPatch,
    success: { status: 200, description: 'The updated channel' },
    handler: async ({ auth, params, body }) => {
      const c = await getChannel(ctx.db, auth.workspaceId, params.id);
      if (!c) throw notFound('Channel');
      checkedAdapter(c.provider, body.credentials);
      const updated = await updateChannel(ctx.db, ctx.config.secretKey, auth.workspaceId, params.id, body);
      if (!updated) throw notFound('Channel');
      return channelView(ctx, updated);
    },
  });
  r.add({
    method: 'DELETE', url: '/api/v1/channels/{id}', tag: 'channels', role: 'admin', summary: 'Delete a channel (refused while a campaign of it is scheduled, sending or paused)',
    success: { status: 204, description: 'Deleted' },
    handler: async ({ auth, params }) => {
      const c = await getChannel(ctx.db, auth.workspaceId, params.id);
      if (!c) throw notFound('Channel');
      const active = await countActiveCampaigns(ctx.db, c.id);
      if (active > 0) throw new ApiError('channel_in_use', `Channel has ${active} scheduled, sending or paused campaign(s); cancel them first`);
      await softDeleteChannel(ctx.db, auth.workspaceId, c.id);
      return undefined;
    },
  });
  r.add({
    method: 'POST', url: '/api/v1/channels/{id}/test', tag: 'channels', role: 'operator', summary: "Test the channel's credentials against the provider",
    success: { status: 200, description: '{ok, errorClass?, code?, message?}' },
    handler: async ({ auth, params }) => {
      const c = await getChannel(ctx.db, auth.workspaceId, params.id);
      if (!c) throw notFound('Channel');
      const runtime = await loadChannelRuntime(ctx.db, ctx.config.secretKey, c.id);
      if (!runtime) throw notFound('Channel');
      const result = await getAdapter(c.provider).testConnection(runtime);
      if (result.ok && c.status !== 'ok') await setChannelStatus(ctx.db, c.id, 'ok', null);
      if (!result.ok && result.errorClass === 'channel_auth') await setChannelStatus(ctx.db, c.id, 'auth_failed', result.message);
      return result;
    },
  });
}
