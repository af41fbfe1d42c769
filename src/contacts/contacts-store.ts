import { sql } from 'kysely';
import type { Db } from '../storage/db.ts';
import type { ContactTable } from '../storage/schema.ts';

export interface Identity {
  channelId: string;
  providerUserId: string;
  optedOut: boolean;
  optedOutAt: string | null;
}

export interface Contact {
  id: string;
  name: string;
  tags: string[];
  attributes: Record<string, unknown>;
  identities: Identity[];
  createdAt: string;
  updatedAt: string;
}

export const CHUNK = 500;

export function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Loads tags and identities for a page of contact rows (two queries, whatever the page size). */
export async function hydrateContacts(db: Db, rows: ContactTable[]): Promise<Contact[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const tags = new Map<string, string[]>();
  const idents = new Map<string, Identity[]>();
  for (const part of chunks(ids)) {
    const tagRows = await db.k.selectFrom('contact_tags').select(['contact_id', 'tag']).where('contact_id', 'in', part).orderBy('tag').execute();
    for (const t of tagRows) (tags.get(t.contact_id) ?? tags.set(t.contact_id, []).get(t.contact_id)!).push(t.tag);
    const identRows = await db.k
      .selectFrom('identities')
      .select(['contact_id', 'channel_id', 'provider_user_id', 'opted_out', 'opted_out_at'])
      .where('contact_id', 'in', part)
      .orderBy('id')
      .execute();
    for (const i of identRows) {
      (idents.get(i.contact_id) ?? idents.set(i.contact_id, []).get(i.contact_id)!).push({
        channelId: i.channel_id,
        providerUserId: i.provider_user_id,
        optedOut: i.opted_out === 1,
        optedOutAt: i.opted_out_at === null ? null : new Date(i.opted_out_at).toISOString(),
      });
    }
  }
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    tags: tags.get(r.id) ?? [],
    attributes: JSON.parse(r.attributes) as Record<string, unknown>,
    identities: idents.get(r.id) ?? [],
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  }));
}

export async function getContact(db: Db, workspaceId: string, id: string): Promise<Contact | null> {
  const row = await db.k.selectFrom('contacts').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  return (await hydrateContacts(db, [row]))[0];
}

export interface ContactFilter {
  tag?: string;
  channelId?: string;
  q?: string;
  after?: string | null;
  limit: number;
}

/** Keyset pagination by id (ids are time-ordered, so this is creation order). */
export async function listContacts(db: Db, workspaceId: string, f: ContactFilter): Promise<{ items: Contact[]; last: string | null; more: boolean }> {
  let q = db.k.selectFrom('contacts').selectAll('contacts').where('contacts.workspace_id', '=', workspaceId);
  if (f.after) q = q.where('contacts.id', '>', f.after);
  if (f.tag !== undefined) {
    const tag = f.tag;
    q = q.where('contacts.id', 'in', (eb) => eb.selectFrom('contact_tags').select('contact_id').where('workspace_id', '=', workspaceId).where('tag', '=', tag));
  }
  if (f.channelId !== undefined) {
    const channelId = f.channelId;
    q = q.where('contacts.id', 'in', (eb) => eb.selectFrom('identities').select('contact_id').where('channel_id', '=', channelId).where('workspace_id', '=', workspaceId));
  }
  if (f.q !== undefined && f.q !== '') {
    const pattern = `%${f.q.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
    const op = sql.raw(db.flags.ilike);
    q = q.where((eb) =>
      eb.or([
        sql<boolean>`contacts.name ${op} ${pattern} escape '\\'`,
        eb('contacts.id', 'in', eb.selectFrom('identities').select('contact_id').where('workspace_id', '=', workspaceId).where(sql<boolean>`provider_user_id ${op} ${pattern} escape '\\'`)),
      ]),
    );
  }
  const rows = await q.orderBy('contacts.id').limit(f.limit + 1).execute();
  const more = rows.length > f.limit;
  const page = rows.slice(0, f.limit);
  return { items: await hydrateContacts(db, page), last: page.length ? page[page.length - 1].id : null, more };
}

/**
 * Deletes the contact row; its tags and identities go with it (ON DELETE CASCADE). The contact row
 * is locked first, as every write of a contact does (patchContact, upsertContacts): deleting the
 * tags and identities first made a concurrent PATCH and DELETE deadlock on PostgreSQL.
 */
export async function deleteContact(db: Db, workspaceId: string, id: string): Promise<boolean> {
  const res = await db.k.deleteFrom('contacts').where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export async function listTags(db: Db, workspaceId: string, channelId?: string): Promise<{ tag: string; members: number }[]> {
  // With a channel: driven from the channel's identities into contact_tags' primary key
  // (contact_id, tag); an IN subquery made PostgreSQL probe the tag index once per member.
  const rows = channelId
    ? await db.k
        .selectFrom('identities')
        .innerJoin('contact_tags', 'contact_tags.contact_id', 'identities.contact_id')
        .select((eb) => ['contact_tags.tag', eb.fn.count<number>('contact_tags.contact_id').distinct().as('members')])
        .where('identities.channel_id', '=', channelId)
        .where('identities.workspace_id', '=', workspaceId)
        .where('identities.opted_out', '=', 0)
        .groupBy('contact_tags.tag')
        .orderBy('contact_tags.tag')
        .execute()
    : await db.k
        .selectFrom('contact_tags')
        .select((eb) => ['contact_tags.tag', eb.fn.countAll<number>().as('members')])
        .where('contact_tags.workspace_id', '=', workspaceId)
        .groupBy('contact_tags.tag')
        .orderBy('contact_tags.tag')
        .execute();
  return rows.map((r) => ({ tag: r.tag, members: Number(r.members) }));
}

/** Marks one channel identity opted out (or back in); returns whether it existed. */
export async function setOptOut(db: Db, channelId: string, providerUserId: string, optedOut: boolean): Promise<boolean> {
  const res = await db.k
    .updateTable('identities')
    .set({ opted_out: optedOut ? 1 : 0, opted_out_at: optedOut ? Date.now() : null })
    .where('channel_id', '=', channelId)
    .where('provider_user_id', '=', providerUserId)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}
