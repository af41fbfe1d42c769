import type { Transaction } from 'kysely';
import { isForeignKeyViolation, isUniqueViolation, type Db } from '../storage/db.ts';
import type { Schema } from '../storage/schema.ts';
import { newId } from '../util/ids.ts';
import { chunks } from './contacts-store.ts';

export interface ContactInput {
  name?: string;
  tags?: string[];
  attributes?: Record<string, unknown>;
  identities?: { channelId: string; providerUserId: string; optedOut?: boolean }[];
}

export interface UpsertReport {
  created: number;
  updated: number;
  rejected: { index: number; reason: string }[];
  /** Per input: the contact id written and whether it was new, or null when rejected. */
  results: ({ id: string; created: boolean } | null)[];
}

const key = (channelId: string, userId: string) => `${channelId}\u0000${userId}`;

/** A contact found by its identity was deleted before the transaction read it. */
class ContactVanished extends Error {}

const ATTEMPTS = 5;

/**
 * Bulk upsert, in one transaction. An input whose identity (channel + provider user ID) already
 * exists updates that contact: name replaced when given, tags added, attributes merged, new
 * identities attached. Inputs matching nothing create contacts. Inputs within the same call
 * that share an identity merge into one contact, so a CSV with duplicate rows stays deduplicated.
 *
 * On PostgreSQL another transaction can commit between the reads and the writes: the same new
 * identity (two requests creating one contact), or the deletion of a contact being updated. The
 * write then fails on a constraint (or, for two bulk upserts, deadlocks), and the whole upsert is
 * tried again: it sees the committed state and updates what now exists, or creates what is now gone.
 */
export async function upsertContacts(db: Db, workspaceId: string, inputs: ContactInput[], channelIds: Set<string>): Promise<UpsertReport> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await upsertOnce(db, workspaceId, inputs, channelIds);
    } catch (err) {
      // 40P01: two bulk upserts updating the same contacts in different orders deadlocked.
      const race = err instanceof ContactVanished || isUniqueViolation(err) || isForeignKeyViolation(err) || (err as { code?: unknown }).code === '40P01';
      if (!race || attempt >= ATTEMPTS) throw err;
    }
  }
}

async function upsertOnce(db: Db, workspaceId: string, inputs: ContactInput[], channelIds: Set<string>): Promise<UpsertReport> {
  const report: UpsertReport = { created: 0, updated: 0, rejected: [], results: [] };
  await db.k.transaction().execute(async (tx) => {
    const owner = await existingOwners(tx, inputs, channelIds);
    const existingIds = new Set(owner.values());
    const existing = new Map<string, { name: string; attributes: Record<string, unknown> }>();
    for (const part of chunks([...existingIds])) {
      const rows = await tx.selectFrom('contacts').select(['id', 'name', 'attributes']).where('id', 'in', part).where('workspace_id', '=', workspaceId).execute();
      for (const r of rows) existing.set(r.id, { name: r.name, attributes: JSON.parse(r.attributes) });
    }
    const now = Date.now();
    const newContacts = new Map<string, { name: string; attributes: Record<string, unknown> }>();
    const touched = new Set<string>();
    const tagRows: { workspace_id: string; contact_id: string; tag: string }[] = [];
    const identityRows: Schema['identities'][] = [];
    const optOutChanges: { channelId: string; providerUserId: string; optedOut: boolean }[] = [];

    inputs.forEach((input, index) => {
      const idents = input.identities ?? [];
      const badChannel = idents.find((i) => !channelIds.has(i.channelId));
      if (badChannel) {
        report.rejected.push({ index, reason: `channel ${badChannel.channelId} does not exist` });
        report.results.push(null);
        return;
      }
      const owners = new Set(idents.map((i) => owner.get(key(i.channelId, i.providerUserId))).filter((x): x is string => x !== undefined));
      if (owners.size > 1) {
        report.rejected.push({ index, reason: 'its identities belong to different existing contacts' });
        report.results.push(null);
        return;
      }
      let id = [...owners][0];
      const isNew = id === undefined || (newContacts.has(id) && !existing.has(id));
      if (id === undefined) {
        id = newId();
        newContacts.set(id, { name: input.name ?? '', attributes: input.attributes ?? {} });
      } else {
        const target = newContacts.get(id) ?? existing.get(id);
        if (!target) throw new ContactVanished();
        if (input.name !== undefined && input.name !== '') target.name = input.name;
        if (input.attributes) Object.assign(target.attributes, input.attributes);
        if (!newContacts.has(id)) touched.add(id);
      }
      for (const tag of input.tags ?? []) tagRows.push({ workspace_id: workspaceId, contact_id: id, tag });
      for (const i of idents) {
        const k = key(i.channelId, i.providerUserId);
        if (!owner.has(k)) {
          owner.set(k, id);
          identityRows.push({
            id: newId(), workspace_id: workspaceId, contact_id: id, channel_id: i.channelId, provider_user_id: i.providerUserId,
            opted_out: i.optedOut ? 1 : 0, opted_out_at: i.optedOut ? now : null, created_at: now,
          });
        } else if (i.optedOut !== undefined) {
          optOutChanges.push({ channelId: i.channelId, providerUserId: i.providerUserId, optedOut: i.optedOut });
        }
      }
      report.results.push({ id, created: isNew });
      if (isNew) report.created++;
      else report.updated++;
    });

    const contactRows = [...newContacts].map(([id, c]) => ({ id, workspace_id: workspaceId, name: c.name, attributes: JSON.stringify(c.attributes), created_at: now, updated_at: now }));
    for (const part of chunks(contactRows, 1000)) await tx.insertInto('contacts').values(part).execute();
    for (const id of touched) {
      const c = existing.get(id)!;
      await tx.updateTable('contacts').set({ name: c.name, attributes: JSON.stringify(c.attributes), updated_at: now }).where('id', '=', id).execute();
    }
    for (const part of chunks(identityRows, 1000)) await tx.insertInto('identities').values(part).execute();
    for (const part of chunks(tagRows, 2000)) await tx.insertInto('contact_tags').values(part).onConflict((oc) => oc.doNothing()).execute();
    for (const o of optOutChanges) {
      await tx.updateTable('identities')
        .set({ opted_out: o.optedOut ? 1 : 0, opted_out_at: o.optedOut ? now : null })
        .where('channel_id', '=', o.channelId).where('provider_user_id', '=', o.providerUserId).execute();
    }
  });
  // Counting a contact created earlier in the same call and updated by a later row as "updated"
  // would be confusing: it counts as one created contact.
  const seen = new Set<string>();
  report.created = 0;
  report.updated = 0;
  for (const r of report.results) {
    if (!r || seen.has(r.id)) continue;
    seen.add(r.id);
    if (r.created) report.created++;
    else report.updated++;
  }
  return report;
}

async function existingOwners(tx: Transaction<Schema>, inputs: ContactInput[], channelIds: Set<string>): Promise<Map<string, string>> {
  const byChannel = new Map<string, Set<string>>();
  for (const input of inputs) {
    for (const i of input.identities ?? []) {
      if (!channelIds.has(i.channelId)) continue;
      (byChannel.get(i.channelId) ?? byChannel.set(i.channelId, new Set()).get(i.channelId)!).add(i.providerUserId);
    }
  }
  const owner = new Map<string, string>();
  for (const [channelId, users] of byChannel) {
    for (const part of chunks([...users])) {
      const rows = await tx.selectFrom('identities').select(['provider_user_id', 'contact_id']).where('channel_id', '=', channelId).where('provider_user_id', 'in', part).execute();
      for (const r of rows) owner.set(key(channelId, r.provider_user_id), r.contact_id);
    }
  }
  return owner;
}

export interface ContactPatch {
  name?: string;
  tags?: string[];
  attributes?: Record<string, unknown>;
  identities?: { channelId: string; providerUserId: string; optedOut?: boolean }[];
}

export class IdentityTakenError extends Error {}

/** Replaces the given parts of one contact; `identities` replaces the whole set. */
export async function patchContact(db: Db, workspaceId: string, id: string, patch: ContactPatch): Promise<boolean> {
  const now = Date.now();
  return db.k.transaction().execute(async (tx) => {
    const set: { updated_at: number; name?: string; attributes?: string } = { updated_at: now };
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.attributes !== undefined) set.attributes = JSON.stringify(patch.attributes);
    // The update locks the contact first: deleted meanwhile (a concurrent DELETE), it changes no
    // row, and nothing else is written (new tags or identities would break their foreign keys).
    const updated = await tx.updateTable('contacts').set(set).where('id', '=', id).where('workspace_id', '=', workspaceId).executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return false;
    if (patch.tags !== undefined) {
      await tx.deleteFrom('contact_tags').where('contact_id', '=', id).execute();
      const rows = [...new Set(patch.tags)].map((tag) => ({ workspace_id: workspaceId, contact_id: id, tag }));
      if (rows.length) await tx.insertInto('contact_tags').values(rows).execute();
    }
    if (patch.identities !== undefined) {
      const current = await tx.selectFrom('identities').selectAll().where('contact_id', '=', id).execute();
      const wanted = new Map(patch.identities.map((i) => [key(i.channelId, i.providerUserId), i]));
      for (const c of current) {
        if (!wanted.has(key(c.channel_id, c.provider_user_id))) await tx.deleteFrom('identities').where('id', '=', c.id).execute();
      }
      const have = new Map(current.map((c) => [key(c.channel_id, c.provider_user_id), c]));
      for (const [k, i] of wanted) {
        const cur = have.get(k);
        if (cur) {
          if (i.optedOut !== undefined && (cur.opted_out === 1) !== i.optedOut) {
            await tx.updateTable('identities').set({ opted_out: i.optedOut ? 1 : 0, opted_out_at: i.optedOut ? now : null }).where('id', '=', cur.id).execute();
          }
          continue;
        }
        const taken = await tx.selectFrom('identities').select('contact_id').where('channel_id', '=', i.channelId).where('provider_user_id', '=', i.providerUserId).executeTakeFirst();
        const takenError = new IdentityTakenError(`identity ${i.providerUserId} on channel ${i.channelId} belongs to another contact`);
        if (taken) throw takenError;
        // Taken meanwhile by a transaction that committed after the check: the same conflict.
        await tx.insertInto('identities').values({
          id: newId(), workspace_id: workspaceId, contact_id: id, channel_id: i.channelId, provider_user_id: i.providerUserId,
          opted_out: i.optedOut ? 1 : 0, opted_out_at: i.optedOut ? now : null, created_at: now,
        }).execute().catch((err: unknown) => Promise.reject(isUniqueViolation(err) ? takenError : err));
      }
    }
    return true;
  });
}
