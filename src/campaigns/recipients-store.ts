import type { Db } from '../storage/db.ts';
import type { RecipientTable } from '../storage/schema.ts';
import type { Selectable } from 'kysely';

export interface RecipientView {
  id: string;
  contactId: string;
  name: string;
  providerUserId: string;
  status: string;
  errorClass: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  providerMessageId: string | null;
  attempts: number;
  sentAt: string | null;
  failedAt: string | null;
  deliveredAt: string | null;
  readAt: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toRecipientView(r: Selectable<RecipientTable>): RecipientView {
  return {
    id: String(r.id),
    contactId: r.contact_id,
    name: r.name,
    providerUserId: r.provider_user_id,
    status: r.status,
    errorClass: r.error_class,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    providerMessageId: r.provider_message_id,
    attempts: r.attempts,
    sentAt: iso(r.sent_at),
    failedAt: iso(r.failed_at),
    deliveredAt: iso(r.delivered_at),
    readAt: iso(r.read_at),
  };
}

export async function listRecipients(db: Db, campaignId: string, f: { status?: string; errorClass?: string; after?: number | null; limit: number }) {
  let q = db.k.selectFrom('campaign_recipients').selectAll().where('campaign_id', '=', campaignId);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.errorClass) q = q.where('error_class', '=', f.errorClass);
  if (f.after !== null && f.after !== undefined) q = q.where('id', '>', f.after);
  const rows = await q.orderBy('id').limit(f.limit + 1).execute();
  const page = rows.slice(0, f.limit);
  return { items: page.map(toRecipientView), last: page.length ? Number(page[page.length - 1].id) : null, more: rows.length > f.limit };
}

/** Every recipient of a campaign, in pages of 2,000, for streaming exports. */
export async function* iterateRecipients(db: Db, campaignId: string, status?: string): AsyncGenerator<RecipientView[]> {
  let after: number | null = null;
  for (;;) {
    const page = await listRecipients(db, campaignId, { status, after, limit: 2000 });
    if (page.items.length) yield page.items;
    if (!page.more) return;
    after = page.last;
  }
}

/** Failures grouped by class and code, with a sample message (the detail page's "why it failed"). */
export async function failureSummary(db: Db, campaignId: string) {
  const rows = await db.k
    .selectFrom('campaign_recipients')
    .select((eb) => ['error_class', 'error_code', eb.fn.countAll<number>().as('count'), eb.fn.max('error_message').as('sample')])
    .where('campaign_id', '=', campaignId)
    .where('status', '=', 'failed')
    .groupBy(['error_class', 'error_code'])
    .execute();
  return rows
    .map((r) => ({ errorClass: r.error_class, errorCode: r.error_code, count: Number(r.count), sampleMessage: r.sample }))
    .sort((a, b) => b.count - a.count);
}
