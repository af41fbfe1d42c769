import { CsvError, parse } from 'csv-parse';
import type { Readable } from 'node:stream';
import type { Db } from '../storage/db.ts';
import { upsertContacts, type ContactInput } from './contacts-upsert.ts';
import { normalizeTag, MAX_NAME, MAX_PROVIDER_USER_ID } from './contact-schemas.ts';

export const CSV_COLUMNS = ['name', 'channel_id', 'provider_user_id', 'tags'] as const;
const BATCH = 1000;
const MAX_REPORTED = 10_000;

export interface ImportReport {
  imported: number;
  updated: number;
  rejected: number;
  /** One entry per rejected row (up to 10,000), `row` counting the header as row 1. */
  rejectedRows: { row: number; reason: string }[];
}

export class CsvFormatError extends Error {}

/**
 * Streams a CSV body (header `name,channel_id,provider_user_id,tags`, tags split by `;`) into
 * contacts, 1,000 rows per transaction, so a large file never sits in memory whole.
 */
export async function importContactsCsv(db: Db, workspaceId: string, body: Readable, channelIds: Set<string>): Promise<ImportReport> {
  const report: ImportReport = { imported: 0, updated: 0, rejected: 0, rejectedRows: [] };
  const reject = (row: number, reason: string) => {
    report.rejected++;
    if (report.rejectedRows.length < MAX_REPORTED) report.rejectedRows.push({ row, reason });
  };
  const parser = body.pipe(parse({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, max_record_size: 1 << 20 }));
  let header: string[] | null = null;
  let batch: { row: number; input: ContactInput }[] = [];
  const seenInBatch = new Set<string>();

  const flush = async () => {
    if (batch.length === 0) return;
    const res = await upsertContacts(db, workspaceId, batch.map((b) => b.input), channelIds);
    for (const r of res.rejected) reject(batch[r.index].row, r.reason);
    report.imported += res.created;
    report.updated += res.updated;
    batch = [];
    seenInBatch.clear();
  };

  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      row++;
      if (!header) {
        header = record.map((h) => h.trim().toLowerCase());
        const missing = ['channel_id', 'provider_user_id'].filter((c) => !header!.includes(c));
        if (missing.length) throw new CsvFormatError(`the header row must name the columns ${CSV_COLUMNS.join(',')}; missing: ${missing.join(', ')}`);
        continue;
      }
      const get = (col: string) => {
        const i = header!.indexOf(col);
        return i >= 0 ? (record[i] ?? '').trim() : '';
      };
      if (record.some((field) => field.includes('\u0000'))) {
        reject(row, 'contains a NUL character');
        continue;
      }
      if (record.length !== header.length) {
        reject(row, `expected ${header.length} columns, found ${record.length}`);
        continue;
      }
      const channelId = get('channel_id');
      const providerUserId = get('provider_user_id');
      const name = get('name');
      if (!channelId) { reject(row, 'channel_id is empty'); continue; }
      if (!channelIds.has(channelId)) { reject(row, `channel ${channelId} does not exist`); continue; }
      if (!providerUserId) { reject(row, 'provider_user_id is empty'); continue; }
      if (providerUserId.length > MAX_PROVIDER_USER_ID) { reject(row, `provider_user_id is longer than ${MAX_PROVIDER_USER_ID} characters`); continue; }
      if (name.length > MAX_NAME) { reject(row, `name is longer than ${MAX_NAME} characters`); continue; }
      const tags: string[] = [];
      let badTag: string | null = null;
      for (const raw of get('tags').split(';')) {
        if (raw.trim() === '') continue;
        const t = normalizeTag(raw);
        if (t === null) badTag = raw;
        else tags.push(t);
      }
      if (badTag !== null) { reject(row, `tag "${badTag.slice(0, 80)}" is longer than 64 characters`); continue; }
      // Two rows for the same identity in one batch would both be "new" to the database: flush first.
      const k = `${channelId}\u0000${providerUserId}`;
      if (seenInBatch.has(k)) await flush();
      seenInBatch.add(k);
      batch.push({ row, input: { name: name || undefined, tags, identities: [{ channelId, providerUserId }] } });
      if (batch.length >= BATCH) await flush();
    }
  } catch (err) {
    if (err instanceof CsvFormatError) throw err;
    // Every parser error, whatever its code: not all of them start with CSV_ (INVALID_OPENING_QUOTE).
    if (err instanceof CsvError) throw new CsvFormatError(`CSV is malformed near line ${(err as CsvError & { lines?: number }).lines ?? row}: ${err.message}`);
    throw err;
  }
  if (!header) throw new CsvFormatError('the CSV body is empty; it needs a header row name,channel_id,provider_user_id,tags');
  await flush();
  return report;
}
