import { z } from 'zod';
import type { AppContext } from '../../app-context.ts';
import { audienceSchema } from '../../campaigns/campaign-schemas.ts';
import { countAudience } from '../../campaigns/audience.ts';
import { getChannel } from '../../channels/channels-store.ts';
import { CREDENTIAL_FIELDS, availableProviders, getAdapter } from '../../providers/registry.ts';
import type { MessageContent, ProviderAdapter } from '../../providers/types.ts';
import { ApiError } from '../errors.ts';
import type { Routes } from '../route-kit.ts';

/** Largest length `make(n)` passes the adapter's own checks with, found by bisection (≤ 100,000). */
function probeLimit(adapter: ProviderAdapter, make: (n: number) => MessageContent): number | null {
  if (adapter.validateMessage(make(1)).length) return null;
  let lo = 1;
  let hi = 100_000;
  if (!adapter.validateMessage(make(hi)).length) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (adapter.validateMessage(make(mid)).length) hi = mid;
    else lo = mid;
  }
  return lo;
}

/**
 * What each provider takes, read from the adapters themselves (their validateMessage and credential
 * lists), so the campaign form checks limits as you type with the same numbers the API enforces.
 */
function providerInfo() {
  return availableProviders().map((name) => {
    const adapter = getAdapter(name);
    const template: MessageContent = { type: 'template', template: { name: 't', language: 'en', components: [] } };
    return {
      name,
      defaultRatePerSecond: adapter.defaultRatePerSecond,
      credentialFields: CREDENTIAL_FIELDS[name],
      limits: {
        text: probeLimit(adapter, (n) => ({ type: 'text', text: 'x'.repeat(n) })),
        caption: probeLimit(adapter, (n) => ({ type: 'image', url: 'https://example.com/a.png', caption: 'x'.repeat(n) })),
      },
      images: adapter.validateMessage({ type: 'image', url: 'https://example.com/a.png' }).length === 0,
      templates: adapter.validateMessage(template).length === 0,
    };
  });
}

/** What the campaign composer and the channel form need before anything is saved. */
export function composerRoutes(r: Routes, ctx: AppContext): void {
  let providers: ReturnType<typeof providerInfo> | null = null;
  r.add({
    method: 'GET', url: '/api/v1/providers', tag: 'channels', role: 'viewer', summary: 'Providers: credential fields, default rate, message limits, images and templates support',
    success: { status: 200, description: '{items:[{name, defaultRatePerSecond, credentialFields, limits:{text, caption}, images, templates}]}' },
    handler: async () => ({ items: (providers ??= providerInfo()), nextCursor: null }),
  });
  r.add({
    method: 'POST', url: '/api/v1/audience-preview', tag: 'campaigns', role: 'viewer',
    body: z.strictObject({ channelId: z.string().min(1).max(100), audience: audienceSchema }),
    summary: 'How many unique contacts an audience has now, before a campaign is saved (read only)',
    success: { status: 200, description: '{count}' },
    handler: async ({ auth, body }) => {
      if (!(await getChannel(ctx.db, auth.workspaceId, body.channelId))) throw new ApiError('unknown_channel', `Channel ${body.channelId} does not exist`);
      return { count: await countAudience(ctx.db, auth.workspaceId, body.channelId, body.audience) };
    },
  });
}
