import { Transform, type Readable } from 'node:stream';
import type { AppContext } from '../../app-context.ts';
import { listChannels } from '../../channels/channels-store.ts';
import { bulkContactsInput, contactInput, contactListQuery, contactPatch } from '../../contacts/contact-schemas.ts';
import { deleteContact, getContact, listContacts, listTags } from '../../contacts/contacts-store.ts';
import { IdentityTakenError, patchContact, upsertContacts } from '../../contacts/contacts-upsert.ts';
import { CsvFormatError, importContactsCsv } from '../../contacts/csv-import.ts';
import { decodeCursor, encodeCursor } from '../../util/ids.ts';
import { z } from 'zod';
import { ApiError, notFound } from '../errors.ts';
import { parseInput, type Routes } from '../route-kit.ts';

const CSV_LIMIT = 100 * 1024 * 1024;

async function channelIdsOf(ctx: AppContext, workspaceId: string): Promise<Set<string>> {
  return new Set((await listChannels(ctx.db, workspaceId)).map((c) => c.id));
}

/** Passes bytes through until the limit, then fails the stream with a 413. */
function limitBytes(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) cb(new ApiError('payload_too_large', `CSV body is larger than ${limit / 1024 / 1024} MiB`));
      else cb(null, chunk);
    },
  });
}

export function contactRoutes(r: Routes, ctx: AppContext): void {
  r.add({
    method: 'POST', url: '/api/v1/contacts', tag: 'contacts', role: 'operator', bodyLimit: 16 * 1024 * 1024,
    summary: 'Create or update one contact, or bulk upsert up to 10,000 with {"contacts":[…]}',
    body: z.union([bulkContactsInput, contactInput]),
    success: { status: 201, description: 'One contact: the contact (201 created, 200 updated). Bulk: {created, updated, rejected, items}' },
    handler: async ({ auth, body, reply }) => {
      const channels = await channelIdsOf(ctx, auth.workspaceId);
      if ('contacts' in body && Array.isArray(body.contacts)) {
        const report = await upsertContacts(ctx.db, auth.workspaceId, body.contacts, channels);
        reply.code(200);
        return reply.send({ created: report.created, updated: report.updated, rejected: report.rejected, items: report.results.map((x) => (x ? { id: x.id, created: x.created } : null)) });
      }
      const single = parseInput(contactInput, body, 'body');
      const report = await upsertContacts(ctx.db, auth.workspaceId, [single], channels);
      if (report.rejected.length) throw new ApiError('validation_failed', `Contact rejected: ${report.rejected[0].reason}`);
      const res = report.results[0]!;
      reply.code(res.created ? 201 : 200);
      return reply.send(await getContact(ctx.db, auth.workspaceId, res.id));
    },
  });
  r.add({
    method: 'GET', url: '/api/v1/contacts', tag: 'contacts', role: 'viewer', summary: 'List contacts (filter by tag, channelId, q; cursor pagination)', query: contactListQuery,
    success: { status: 200, description: '{items, nextCursor}' },
    handler: async ({ auth, query }) => {
      const page = await listContacts(ctx.db, auth.workspaceId, { tag: query.tag, channelId: query.channelId, q: query.q, after: decodeCursor(query.cursor), limit: query.limit });
      return { items: page.items, nextCursor: page.more && page.last ? encodeCursor(page.last) : null };
    },
  });
  r.add({
    method: 'GET', url: '/api/v1/contacts/{id}', tag: 'contacts', role: 'viewer', summary: 'Get a contact',
    success: { status: 200, description: 'The contact' },
    handler: async ({ auth, params }) => {
      const c = await getContact(ctx.db, auth.workspaceId, params.id);
      if (!c) throw notFound('Contact');
      return c;
    },
  });
  r.add({
    method: 'PATCH', url: '/api/v1/contacts/{id}', tag: 'contacts', role: 'operator', body: contactPatch,
    summary: 'Update a contact: name, tags (replaced), attributes (replaced), identities (replaced; set optedOut per identity)',
    success: { status: 200, description: 'The updated contact' },
    handler: async ({ auth, params, body }) => {
      const c = await getContact(ctx.db, auth.workspaceId, params.id);
      if (!c) throw notFound('Contact');
      if (body.identities) {
        const channels = await channelIdsOf(ctx, auth.workspaceId);
        const bad = body.identities.find((i) => !channels.has(i.channelId));
        if (bad) throw new ApiError('unknown_channel', `Channel ${bad.channelId} does not exist`);
      }
      try {
        if (!(await patchContact(ctx.db, auth.workspaceId, params.id, body))) throw notFound('Contact');
      } catch (err) {
        if (err instanceof IdentityTakenError) throw new ApiError('conflict', err.message);
        throw err;
      }
      const updated = await getContact(ctx.db, auth.workspaceId, params.id);
      if (!updated) throw notFound('Contact');
      return updated;
    },
  });
  r.add({
    method: 'DELETE', url: '/api/v1/contacts/{id}', tag: 'contacts', role: 'operator', summary: 'Delete a contact',
    success: { status: 204, description: 'Deleted' },
    handler: async ({ auth, params }) => {
      if (!(await deleteContact(ctx.db, auth.workspaceId, params.id))) throw notFound('Contact');
      return undefined;
    },
  });
  r.add({
    method: 'POST', url: '/api/v1/contacts/import', tag: 'contacts', role: 'operator', contentType: 'text/csv',
    summary: 'Import contacts from CSV (header name,channel_id,provider_user_id,tags; tags split by ";")',
    success: { status: 200, description: '{imported, updated, rejected, rejectedRows:[{row, reason}]}' },
    handler: async ({ auth, req }) => {
      const body = req.body as Readable | undefined;
      if (!body || typeof (body as Readable).pipe !== 'function') throw new ApiError('unsupported_media_type', 'Send the CSV with Content-Type: text/csv');
      const channels = await channelIdsOf(ctx, auth.workspaceId);
      try {
        return await importContactsCsv(ctx.db, auth.workspaceId, body.pipe(limitBytes(CSV_LIMIT)), channels);
      } catch (err) {
        if (err instanceof CsvFormatError) throw new ApiError('validation_failed', err.message);
        throw err;
      }
    },
  });
  r.add({
    method: 'GET', url: '/api/v1/tags', tag: 'contacts', role: 'viewer', summary: 'Tags with member counts (optionally members of one channel, opted-out excluded)',
    query: z.strictObject({ channelId: z.string().max(100).optional() }),
    success: { status: 200, description: '{items:[{tag, members}], nextCursor}' },
    handler: async ({ auth, query }) => ({ items: await listTags(ctx.db, auth.workspaceId, query.channelId), nextCursor: null }),
  });
}
