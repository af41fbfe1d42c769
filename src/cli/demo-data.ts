import type { AppContext } from '../app-context.ts';
import { insertChannel, listChannels } from '../channels/channels-store.ts';
import { upsertContacts } from '../contacts/contacts-upsert.ts';
import { insertCampaign } from '../campaigns/campaigns-store.ts';
import { newId } from '../util/ids.ts';
import { DEFAULT_WORKSPACE, ensureWorkspace } from '../workspaces/workspaces-store.ts';

const TAGS = ['vip', 'newsletter', 'bangkok', 'tokyo', 'returning'];
const FIRST = ['Ada', 'Ben', 'Chai', 'Dao', 'Emi', 'Fah', 'Gus', 'Hana', 'Ivan', 'Jun', 'Kai', 'Lek', 'Mina', 'Nok', 'Oscar'];

/**
 * Demo data, once: a simulator channel (50/s, 40 ms latency, 2% random failures), 1,000
 * contacts with tags (a few deterministic failures: `fail-` and `block-` IDs) and a draft
 * campaign ready to send. Running it again adds nothing.
 */
export async function seedDemo(ctx: AppContext): Promise<string> {
  const ws = await ensureWorkspace(ctx.db, DEFAULT_WORKSPACE);
  const existing = (await listChannels(ctx.db, ws.id)).find((c) => c.name === 'Demo simulator');
  if (existing) return `already present (channel ${existing.id})`;
  const channel = await insertChannel(ctx.db, ctx.config.secretKey, ws.id, {
    name: 'Demo simulator', provider: 'simulator', credentials: { token: 'demo' }, rateLimitPerSecond: 50,
    settings: { latencyMs: 40, failureRate: 0.02 },
  });
  const contacts = Array.from({ length: 1000 }, (_, i) => {
    const prefix = i % 97 === 5 ? 'fail-' : i % 211 === 7 ? 'block-' : 'user-';
    return {
      name: `${FIRST[i % FIRST.length]} ${i + 1}`,
      tags: TAGS.filter((_, t) => (i + t) % (t + 2) === 0),
      attributes: { city: i % 2 ? 'Bangkok' : 'Tokyo', locale: i % 2 ? 'th' : 'ja' },
      identities: [{ channelId: channel.id, providerUserId: `${prefix}${String(i + 1).padStart(5, '0')}` }],
    };
  });
  await upsertContacts(ctx.db, ws.id, contacts, new Set([channel.id]));
  const campaign = await insertCampaign(ctx.db, ws.id, {
    id: newId(), name: 'Welcome to the demo', channelId: channel.id,
    message: { type: 'text', text: 'Hi {{name|there}}! Our {{city|local}} store opens early this Saturday.' },
    audience: { type: 'all' }, status: 'draft', scheduledAt: null, parentCampaignId: null,
  });
  return `channel ${channel.id}, 1,000 contacts, draft campaign ${campaign.id} (POST /api/v1/campaigns/${campaign.id}/send to send it)`;
}
