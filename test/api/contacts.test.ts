import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, addContacts, simulatorChannel, startHerald, type TestHerald } from '../helpers/harness.ts';

interface Identity { channelId: string; providerUserId: string; optedOut: boolean; optedOutAt: string | null }
interface Contact { id: string; name: string; tags: string[]; attributes: Record<string, unknown>; identities: Identity[] }

const CSV = { 'content-type': 'text/csv' };

describe.each(DIALECTS)('contacts API on %s', (dialect) => {
  let t: TestHerald;
  let ch: string;
  let ch2: string;

  beforeAll(async () => {
    t = await startHerald(dialect);
    ch = await simulatorChannel(t);
    ch2 = await simulatorChannel(t);
  });
  afterAll(() => t.close());

  const get = async (id: string) => (await t.api<Contact>('GET', `/api/v1/contacts/${id}`)).body;
  const list = async (query: string) => {
    const res = await t.api<{ items: Contact[]; nextCursor: string | null }>('GET', `/api/v1/contacts?${query}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  /** Every page of a list, following nextCursor. */
  const listAll = async (query: string, limit = 2) => {
    const pages: Contact[][] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(limit);
      pages.push(page.items);
      cursor = page.nextCursor;
      expect(pages.length).toBeLessThan(1000);
    } while (cursor);
    return pages;
  };
  const tagCounts = async (query = '') => {
    const res = await t.api<{ items: { tag: string; members: number }[] }>('GET', `/api/v1/tags${query}`);
    expect(res.status).toBe(200);
    return Object.fromEntries(res.body.items.map((i) => [i.tag, i.members]));
  };

  describe('single upsert', () => {
    it('creates (201), then the same identity updates the same contact (200), never duplicating', async () => {
      const first = await t.api<Contact>('POST', '/api/v1/contacts', {
        name: 'Alice Single', tags: ['s-a'], attributes: { locale: 'en', score: 1 }, identities: [{ channelId: ch, providerUserId: 'single-1' }],
      });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({
        name: 'Alice Single', tags: ['s-a'], attributes: { locale: 'en', score: 1 },
        identities: [{ channelId: ch, providerUserId: 'single-1', optedOut: false, optedOutAt: null }],
      });
      expect(typeof first.body.id).toBe('string');

      const second = await t.api<Contact>('POST', '/api/v1/contacts', {
        name: 'Alice Renamed', tags: ['s-b'], attributes: { score: 2 }, identities: [{ channelId: ch, providerUserId: 'single-1' }],
      });
      expect(second.status).toBe(200);
      expect(second.body.id).toBe(first.body.id);
      expect(second.body.name).toBe('Alice Renamed');
      // An upsert adds tags and merges attributes.
      expect([...second.body.tags].sort()).toEqual(['s-a', 's-b']);
      expect(second.body.attributes).toEqual({ locale: 'en', score: 2 });
      expect(second.body.identities).toHaveLength(1);

      const found = await list('q=single-1');
      expect(found.items.map((c) => c.id)).toEqual([first.body.id]);
    });

    it('rejects a single contact on an unknown channel with 400', async () => {
      const res = await t.api('POST', '/api/v1/contacts', { name: 'X', identities: [{ channelId: 'no-such-channel', providerUserId: 'p' }] });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain('no-such-channel');
      expect((await list('q=X&limit=500')).items.filter((c) => c.name === 'X')).toHaveLength(0);
    });

    it('validates the body', async () => {
      for (const body of [
        { name: 'x', identities: [{ channelId: ch }] },
        { name: 'x', identities: [{ channelId: ch, providerUserId: '' }] },
        { name: 'x', tags: 'vip' },
        { name: 'x', tags: [''] },
        { name: 'x', attributes: { nested: { no: 1 } } },
        { name: 'x', unknownField: 1 },
        { name: 'x'.repeat(201) },
        { contacts: [] },
      ]) {
        const res = await t.api('POST', '/api/v1/contacts', body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
    });
  });

  describe('bulk upsert', () => {
    it('counts created, updated and rejected; an unknown channel is rejected with its index; duplicates merge', async () => {
      await addContacts(t, ch, [{ id: 'bulk-existing', name: 'Existing', tags: ['b-old'] }]);
      const res = await t.api('POST', '/api/v1/contacts', {
        contacts: [
          { name: 'Bulk One', tags: ['b1'], identities: [{ channelId: ch, providerUserId: 'bulk-1' }] },
          { name: 'Bad Channel', identities: [{ channelId: 'nope', providerUserId: 'bulk-x' }] },
          { name: 'Existing Updated', tags: ['b-new'], identities: [{ channelId: ch, providerUserId: 'bulk-existing' }] },
          { name: 'Bulk Two', identities: [{ channelId: ch, providerUserId: 'bulk-2' }] },
          { tags: ['b-dup'], attributes: { from: 'dup' }, identities: [{ channelId: ch, providerUserId: 'bulk-1' }] },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body.created).toBe(2);
      expect(res.body.updated).toBe(1);
      expect(res.body.rejected).toEqual([{ index: 1, reason: expect.stringContaining('nope') }]);
      expect(res.body.items).toHaveLength(5);
      expect(res.body.items[1]).toBeNull();
      expect(res.body.items[0].id).toBe(res.body.items[4].id);
      expect(res.body.items[0].created).toBe(true);
      expect(res.body.items[2].created).toBe(false);

      const one = await get(res.body.items[0].id);
      expect(one.name).toBe('Bulk One');
      expect([...one.tags].sort()).toEqual(['b-dup', 'b1']);
      expect(one.attributes).toEqual({ from: 'dup' });
      expect(one.identities).toHaveLength(1);
      const existing = await get(res.body.items[2].id);
      expect(existing.name).toBe('Existing Updated');
      expect([...existing.tags].sort()).toEqual(['b-new', 'b-old']);
      // No duplicate rows for bulk-1 and no contact for the rejected input.
      expect((await list('q=bulk-1')).items).toHaveLength(1);
      expect((await list('q=bulk-x')).items).toHaveLength(0);
    });

    it('accepts 10,000 and refuses more than 10,000 contacts in one call', async () => {
      const make = (n: number, prefix: string) => ({ contacts: Array.from({ length: n }, (_, i) => ({ name: `n${i}`, tags: [prefix], identities: [{ channelId: ch2, providerUserId: `${prefix}-${i}` }] })) });
      const tooMany = await t.api('POST', '/api/v1/contacts', make(10_001, 'over'));
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.error.code).toBe('validation_failed');
      expect((await tagCounts()).over).toBeUndefined();
      const max = await t.api('POST', '/api/v1/contacts', make(10_000, 'max'));
      expect(max.status).toBe(200);
      expect(max.body.created).toBe(10_000);
      expect(max.body.rejected).toEqual([]);
      expect((await tagCounts()).max).toBe(10_000);
    });
  });

  describe('list, filters and pagination', () => {
    let ids: Record<string, string>;
    beforeAll(async () => {
      const [zed, yara, xavi, wes, vic] = await addContacts(t, ch, [
        { id: 'LF-User-001', name: 'Zed Filterman', tags: ['lf-vip', 'lf-news'] },
        { id: 'lf-user-002', name: 'Yara FILTERMAN', tags: ['lf-news'] },
        { id: 'lf-other-003', name: 'Xavi Quux', tags: ['lf-vip'] },
        { id: 'lf-other-004', name: '100% Real_Deal', tags: ['lf-special'] },
        { id: 'lf-other-005', name: 'Vic Plain', tags: [] },
      ]);
      const [onCh2] = await addContacts(t, ch2, [{ id: 'lf-ch2-only', name: 'Other Channel Filterman', tags: ['lf-vip'] }]);
      ids = { zed, yara, xavi, wes, vic, onCh2 };
    });

    it('filters by tag', async () => {
      const vip = await list('tag=lf-vip');
      expect(vip.items.map((c) => c.id).sort()).toEqual([ids.zed, ids.xavi, ids.onCh2].sort());
      expect((await list('tag=lf-nobody')).items).toEqual([]);
    });

    it('filters by channelId', async () => {
      const onCh2 = await list('channelId=' + ch2 + '&q=lf-');
      expect(onCh2.items.map((c) => c.id)).toEqual([ids.onCh2]);
      const both = await list(`channelId=${ch}&tag=lf-vip`);
      expect(both.items.map((c) => c.id).sort()).toEqual([ids.zed, ids.xavi].sort());
    });

    it('q matches a name substring case-insensitively, and a provider user id substring', async () => {
      const byName = await list('q=filterMAN');
      expect(byName.items.map((c) => c.id).sort()).toEqual([ids.zed, ids.yara, ids.onCh2].sort());
      const byUser = await list('q=other-00');
      expect(byUser.items.map((c) => c.id).sort()).toEqual([ids.xavi, ids.wes, ids.vic].sort());
      expect((await list('q=user-001')).items.map((c) => c.id)).toEqual([ids.zed]);
      expect((await list('q=zzz-no-match')).items).toEqual([]);
    });

    it('q treats LIKE wildcards literally', async () => {
      expect((await list('q=' + encodeURIComponent('%'))).items.map((c) => c.id)).toEqual([ids.wes]);
      expect((await list('q=' + encodeURIComponent('l_deal'))).items.map((c) => c.id)).toEqual([ids.wes]);
      expect((await list('q=' + encodeURIComponent('0% r'))).items.map((c) => c.id)).toEqual([ids.wes]);
      expect((await list('q=' + encodeURIComponent('Xavi%Quux'))).items).toEqual([]);
    });

    it('paginates with a cursor: every item once, in pages of limit', async () => {
      const pages = await listAll('q=lf-', 2);
      const seen = pages.flat().map((c) => c.id);
      expect(pages.length).toBe(3);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.sort()).toEqual(Object.values(ids).sort());
      // Filtered pagination over a tag.
      const vipSeen = (await listAll('tag=lf-vip', 2)).flat().map((c) => c.id);
      expect(vipSeen.sort()).toEqual([ids.zed, ids.xavi, ids.onCh2].sort());
      // The last page says there is no more.
      const last = await list('q=lf-&limit=6');
      expect(last.items).toHaveLength(6);
      expect(last.nextCursor).toBeNull();
    });

    it('refuses a bad limit or an unknown query parameter', async () => {
      expect((await t.api('GET', '/api/v1/contacts?limit=0')).status).toBe(400);
      expect((await t.api('GET', '/api/v1/contacts?limit=abc')).status).toBe(400);
      const res = await t.api('GET', '/api/v1/contacts?colour=red');
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    });
  });

  it('gets one contact, 404 for an unknown id', async () => {
    const [id] = await addContacts(t, ch, [{ id: 'get-one', name: 'Getter', tags: ['g'], attributes: { city: 'Osaka' } }]);
    const res = await t.api('GET', `/api/v1/contacts/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, name: 'Getter', tags: ['g'], attributes: { city: 'Osaka' }, identities: [{ channelId: ch, providerUserId: 'get-one', optedOut: false }] });
    const missing = await t.api('GET', '/api/v1/contacts/00000000-0000-7000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  describe('patch', () => {
    it('replaces name, tags and attributes', async () => {
      const [id] = await addContacts(t, ch, [{ id: 'patch-1', name: 'Before', tags: ['p-a', 'p-b'], attributes: { a: 1, b: 'two' } }]);
      const res = await t.api<Contact>('PATCH', `/api/v1/contacts/${id}`, { name: 'After', tags: ['p-c'], attributes: { c: true } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, name: 'After', tags: ['p-c'], attributes: { c: true } });
      const again = await get(id);
      expect(again.tags).toEqual(['p-c']);
      expect(again.attributes).toEqual({ c: true });
      expect(again.identities).toEqual([{ channelId: ch, providerUserId: 'patch-1', optedOut: false, optedOutAt: null }]);
      // Only what is given changes.
      const nameOnly = await t.api<Contact>('PATCH', `/api/v1/contacts/${id}`, { name: 'Final' });
      expect(nameOnly.body).toMatchObject({ name: 'Final', tags: ['p-c'], attributes: { c: true } });
      expect((await t.api('PATCH', `/api/v1/contacts/${id}`, { tags: [] })).body.tags).toEqual([]);
      const tags = await tagCounts();
      expect(tags['p-a']).toBeUndefined();
      expect(tags['p-c']).toBeUndefined();
    });

    it('opts an identity out (and back in)', async () => {
      const [id] = await addContacts(t, ch, [{ id: 'optout-1', name: 'Opter' }]);
      const before = Date.now();
      const res = await t.api<Contact>('PATCH', `/api/v1/contacts/${id}`, { identities: [{ channelId: ch, providerUserId: 'optout-1', optedOut: true }] });
      expect(res.status).toBe(200);
      expect(res.body.identities).toHaveLength(1);
      expect(res.body.identities[0]).toMatchObject({ channelId: ch, providerUserId: 'optout-1', optedOut: true });
      expect(typeof res.body.identities[0].optedOutAt).toBe('string');
      expect(Date.parse(res.body.identities[0].optedOutAt!)).toBeGreaterThanOrEqual(before - 1000);
      expect((await get(id)).identities[0].optedOut).toBe(true);
      const back = await t.api<Contact>('PATCH', `/api/v1/contacts/${id}`, { identities: [{ channelId: ch, providerUserId: 'optout-1', optedOut: false }] });
      expect(back.body.identities[0]).toMatchObject({ optedOut: false, optedOutAt: null });
    });

    it('replaces identities: adds a new one and removes the ones not listed', async () => {
      const [id] = await addContacts(t, ch, [{ id: 'ident-old', name: 'Mover' }]);
      const res = await t.api<Contact>('PATCH', `/api/v1/contacts/${id}`, { identities: [{ channelId: ch2, providerUserId: 'ident-new' }] });
      expect(res.status).toBe(200);
      expect(res.body.identities.map((i) => [i.channelId, i.providerUserId])).toEqual([[ch2, 'ident-new']]);
      // The freed identity can now go to a new contact.
      const other = await t.api('POST', '/api/v1/contacts', { name: 'Taker', identities: [{ channelId: ch, providerUserId: 'ident-old' }] });
      expect(other.status).toBe(201);
      expect(other.body.id).not.toBe(id);
    });

    it('409 when an identity belongs to another contact; nothing changes', async () => {
      const [a, b] = await addContacts(t, ch, [{ id: 'owner-a', name: 'Owner A' }, { id: 'owner-b', name: 'Owner B' }]);
      const res = await t.api('PATCH', `/api/v1/contacts/${b}`, { name: 'Thief', identities: [{ channelId: ch, providerUserId: 'owner-b' }, { channelId: ch, providerUserId: 'owner-a' }] });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('conflict');
      expect(typeof res.body.error.message).toBe('string');
      expect((await get(a)).identities.map((i) => i.providerUserId)).toEqual(['owner-a']);
      const bAfter = await get(b);
      expect(bAfter.name).toBe('Owner B');
      expect(bAfter.identities.map((i) => i.providerUserId)).toEqual(['owner-b']);
    });

    it('400 for an identity on an unknown channel, 404 for an unknown contact', async () => {
      const [id] = await addContacts(t, ch, [{ id: 'patch-unknown', name: 'U' }]);
      const res = await t.api('PATCH', `/api/v1/contacts/${id}`, { identities: [{ channelId: 'nope', providerUserId: 'x' }] });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('unknown_channel');
      expect((await t.api('PATCH', '/api/v1/contacts/00000000-0000-7000-8000-000000000000', { name: 'x' })).status).toBe(404);
      expect((await t.api('PATCH', `/api/v1/contacts/${id}`, { tags: 'x' })).status).toBe(400);
    });
  });

  it('deletes a contact: 204, then 404, and its identity is free again', async () => {
    const [id] = await addContacts(t, ch, [{ id: 'del-1', name: 'Deleted', tags: ['del-tag'] }]);
    const del = await t.api('DELETE', `/api/v1/contacts/${id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await t.api('GET', `/api/v1/contacts/${id}`)).status).toBe(404);
    expect((await t.api('DELETE', `/api/v1/contacts/${id}`)).status).toBe(404);
    expect((await tagCounts())['del-tag']).toBeUndefined();
    const again = await t.api('POST', '/api/v1/contacts', { name: 'Reborn', identities: [{ channelId: ch, providerUserId: 'del-1' }] });
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(id);
  });

  describe('CSV import', () => {
    const importCsv = (csv: string) => t.api('POST', '/api/v1/contacts/import', csv, undefined, CSV);

    it('imports good rows, updates known identities and reports each rejected row with its reason', async () => {
      await addContacts(t, ch, [{ id: 'csv-existing', name: 'Old Name', tags: ['csv-old'] }]);
      const csv = [
        'name,channel_id,provider_user_id,tags',
        `Ann CSV,${ch},csv-1,csv-vip;csv-news`, // row 2
        `Bob CSV,nope-channel,csv-2,csv-vip`, // row 3: unknown channel
        `Cy CSV,${ch},,csv-vip`, // row 4: empty provider_user_id
        `Dee CSV,${ch},csv-4`, // row 5: wrong column count
        `New Name,${ch},csv-existing,csv-news`, // row 6: re-import → updated
        `"Smith, John",${ch},csv-6, csv-vip ; ;csv-x `, // row 7: quoted comma, tags trimmed
        `Extra,${ch},csv-7,a,b`, // row 8: wrong column count
        `,${ch2},csv-8,`, // row 9: no name, no tags
      ].join('\n');
      const res = await importCsv(csv);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        imported: 3,
        updated: 1,
        rejected: 4,
        rejectedRows: [
          { row: 3, reason: expect.stringContaining('nope-channel') },
          { row: 4, reason: expect.stringContaining('provider_user_id') },
          { row: 5, reason: expect.stringContaining('column') },
          { row: 8, reason: expect.stringContaining('column') },
        ],
      });
      const ann = (await list('q=csv-1')).items;
      expect(ann).toHaveLength(1);
      expect(ann[0]).toMatchObject({ name: 'Ann CSV', identities: [{ channelId: ch, providerUserId: 'csv-1' }] });
      expect([...ann[0].tags].sort()).toEqual(['csv-news', 'csv-vip']);
      const smith = (await list('q=csv-6')).items;
      expect(smith).toHaveLength(1);
      expect(smith[0].name).toBe('Smith, John');
      expect([...smith[0].tags].sort()).toEqual(['csv-vip', 'csv-x']);
      const existing = (await list('q=csv-existing')).items;
      expect(existing).toHaveLength(1);
      expect(existing[0].name).toBe('New Name');
      expect([...existing[0].tags].sort()).toEqual(['csv-news', 'csv-old']);
      expect((await list('q=csv-8')).items[0]).toMatchObject({ tags: [], identities: [{ channelId: ch2, providerUserId: 'csv-8' }] });
      expect((await list('q=csv-2')).items).toHaveLength(0);
      expect((await list('q=Dee CSV')).items).toHaveLength(0);

      // Importing the same file again creates nothing new.
      const again = await importCsv(csv);
      expect(again.body).toMatchObject({ imported: 0, updated: 4, rejected: 4 });
      expect((await list('q=csv-1')).items).toHaveLength(1);
    });

    it('merges duplicate rows of one file into one contact', async () => {
      const res = await importCsv(['name,channel_id,provider_user_id,tags', `First,${ch},csv-dup,d1`, `Second,${ch},csv-dup,d2`].join('\r\n'));
      expect(res.status).toBe(200);
      expect(res.body.imported + res.body.updated).toBe(2);
      expect(res.body.imported).toBe(1);
      const found = (await list('q=csv-dup')).items;
      expect(found).toHaveLength(1);
      expect(found[0].name).toBe('Second');
      expect([...found[0].tags].sort()).toEqual(['d1', 'd2']);
    });

    it('accepts the header columns in any order and case', async () => {
      const res = await importCsv(['Provider_User_ID,Tags,Channel_ID,Name', `csv-order,o1,${ch},Ordered`].join('\n'));
      expect(res.status).toBe(200);
      expect(res.body.imported).toBe(1);
      expect((await list('q=csv-order')).items[0]).toMatchObject({ name: 'Ordered', tags: ['o1'] });
    });

    it('400 for a CSV without the required header columns', async () => {
      const res = await importCsv(['name,phone,tags', 'Ann,123,vip'].join('\n'));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain('channel_id');
      const noHeader = await importCsv(`Ann,${ch},csv-nohead,vip`);
      expect(noHeader.status).toBe(400);
      expect((await list('q=csv-nohead')).items).toHaveLength(0);
    });

    it('400 for an empty CSV', async () => {
      for (const body of ['', '\n', '\n\n  \n']) {
        const res = await importCsv(body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
        expect(typeof res.body.error.message).toBe('string');
      }
    });

    it('reports a header-only CSV as nothing imported', async () => {
      const res = await importCsv('name,channel_id,provider_user_id,tags\n');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ imported: 0, updated: 0, rejected: 0, rejectedRows: [] });
    });

    it('imports 5,000 rows in one file (batched)', async () => {
      const lines = ['name,channel_id,provider_user_id,tags'];
      for (let i = 0; i < 5000; i++) lines.push(`Big ${i},${ch2},big-${String(i).padStart(5, '0')},csv-big${i % 2 === 0 ? ';csv-big-even' : ''}`);
      const res = await importCsv(lines.join('\n') + '\n');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ imported: 5000, updated: 0, rejected: 0, rejectedRows: [] });
      const tags = await tagCounts();
      expect(tags['csv-big']).toBe(5000);
      expect(tags['csv-big-even']).toBe(2500);
      const spot = (await list('q=big-04999')).items;
      expect(spot).toHaveLength(1);
      expect(spot[0].name).toBe('Big 4999');
    });
  });

  describe('tags', () => {
    it('lists tags with member counts, and per channel with opted-out identities excluded', async () => {
      // A channel of its own: the big imports above live on ch2.
      const ch3 = await simulatorChannel(t);
      const ids = await addContacts(t, ch, [
        { id: 'tg-1', tags: ['tg-red', 'tg-blue'] },
        { id: 'tg-2', tags: ['tg-red'] },
        { id: 'tg-3', tags: ['tg-red'] },
      ]);
      await addContacts(t, ch3, [{ id: 'tg-4', tags: ['tg-red', 'tg-green'] }]);
      const all = await tagCounts();
      expect(all['tg-red']).toBe(4);
      expect(all['tg-blue']).toBe(1);
      expect(all['tg-green']).toBe(1);
      const res = await t.api('GET', '/api/v1/tags');
      expect(res.body.nextCursor).toBeNull();
      expect(res.body.items).toEqual(expect.arrayContaining([{ tag: 'tg-red', members: 4 }]));

      expect((await tagCounts(`?channelId=${ch}`))['tg-red']).toBe(3);
      expect((await tagCounts(`?channelId=${ch}`))['tg-green']).toBeUndefined();
      expect((await tagCounts(`?channelId=${ch3}`))['tg-red']).toBe(1);

      await t.api('PATCH', `/api/v1/contacts/${ids[1]}`, { identities: [{ channelId: ch, providerUserId: 'tg-2', optedOut: true }] });
      const onCh = await tagCounts(`?channelId=${ch}`);
      expect(onCh['tg-red']).toBe(2);
      expect(onCh['tg-blue']).toBe(1);
      // The workspace-wide count still includes the opted-out contact.
      expect((await tagCounts())['tg-red']).toBe(4);
      expect(await tagCounts('?channelId=no-such-channel')).toEqual({});
    });
  });
});
