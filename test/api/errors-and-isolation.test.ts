import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, DIALECTS, addContacts, simulatorChannel, startHerald, type TestHerald } from '../helpers/harness.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };
const future = (ms = 3_600_000) => new Date(Date.now() + ms).toISOString();
const MISSING = '00000000-0000-7000-8000-000000000000';

/** Every error answer has exactly `{error: {code, message, details?}}`. */
function expectErrorShape(res: { status: number; body: any; text: string }, code?: string) {
  expect(res.body, res.text.slice(0, 300)).not.toBeNull();
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(typeof res.body.error.code).toBe('string');
  expect(res.body.error.code.length).toBeGreaterThan(0);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.message.length).toBeGreaterThan(0);
  for (const k of Object.keys(res.body.error)) expect(['code', 'message', 'details']).toContain(k);
  if (code) expect(res.body.error.code).toBe(code);
}

/** A JSON text nested `depth` levels deep (built as text: JSON.stringify itself would overflow). */
const nestedJson = (depth: number, leaf = '1') => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);

describe.each(DIALECTS)('errors, OpenAPI and tenant isolation on %s', (dialect) => {
  let t: TestHerald;
  let ch: string;

  beforeAll(async () => {
    t = await startHerald(dialect);
    ch = await simulatorChannel(t);
  });
  afterAll(() => t.close());

  describe('error answers', () => {
    it('malformed JSON → 400 invalid_json', async () => {
      for (const raw of ['{"name": ', '{name: "x"}', "{'a': 1}", '{"a":1,}', 'undefined']) {
        const res = await t.api('POST', '/api/v1/channels', raw, undefined, JSON_HEADERS);
        expect(res.status, raw).toBe(400);
        expectErrorShape(res, 'invalid_json');
      }
      const contacts = await t.api('POST', '/api/v1/contacts', '{"contacts": [', undefined, JSON_HEADERS);
      expect(contacts.status).toBe(400);
      expectErrorShape(contacts, 'invalid_json');
    });

    it('unknown route → 404 not_found', async () => {
      for (const [method, url] of [['GET', '/api/v1/nothing-here'], ['POST', '/api/v1/channels/x/y/z'], ['DELETE', '/api/v1/channels'], ['PUT', '/api/v1/contacts']] as const) {
        const res = await t.api(method, url);
        expect(res.status, `${method} ${url}`).toBe(404);
        expectErrorShape(res, 'not_found');
      }
    });

    it('a JSON body over 1 MiB → 413 payload_too_large', async () => {
      const body = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10), channelId: ch, message: { type: 'text', text: 'hi' }, audience: { type: 'all' } });
      const res = await t.api('POST', '/api/v1/campaigns', body, undefined, JSON_HEADERS);
      expect(res.status).toBe(413);
      expectErrorShape(res, 'payload_too_large');
      expect((await t.api('GET', '/api/v1/campaigns')).body.items).toEqual([]);
    });

    it('an unsupported content type → 415', async () => {
      const res = await t.api('POST', '/api/v1/channels', '<channel/>', undefined, { 'content-type': 'application/xml' });
      expect(res.status).toBe(415);
      expectErrorShape(res, 'unsupported_media_type');
    });

    it('a key in ?token= is only taken on the WebSocket path: elsewhere → 401', async () => {
      const res = await t.herald.app!.inject({ method: 'GET', url: `/api/v1/channels?token=${ADMIN_KEY}` });
      expect(res.statusCode).toBe(401);
      expect(JSON.parse(res.body).error.code).toBe('unauthorized');
    });

    it('no key, a wrong key or a malformed header → 401 unauthorized', async () => {
      for (const [key, headers] of [
        [null, {}],
        ['hrld_wrong-key-000000000000000000000000', {}],
        [null, { authorization: 'Basic dXNlcjpwYXNz' }],
        [null, { authorization: 'Bearer' }],
        [null, { authorization: 'test-admin-key-0123456789abcdef' }],
      ] as [string | null, Record<string, string>][]) {
        for (const url of ['/api/v1/channels', '/api/v1/contacts', '/api/v1/campaigns', `/api/v1/channels/${ch}`]) {
          const res = await t.api('GET', url, undefined, key, headers);
          expect(res.status, `${url} ${JSON.stringify(headers)} ${key}`).toBe(401);
          expectErrorShape(res, 'unauthorized');
        }
      }
      const post = await t.api('POST', '/api/v1/channels', { name: 'x', provider: 'simulator' }, 'wrong-key-but-long-enough');
      expect(post.status).toBe(401);
      expect((await t.api('GET', '/api/v1/channels')).body.items.map((c: { name: string }) => c.name)).not.toContain('x');
    });

    it('health answers without a key', async () => {
      const res = await t.api('GET', '/api/v1/health', undefined, null);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ok', database: dialect });
      expect(typeof res.body.version).toBe('string');
    });
  });

  it('serves an OpenAPI 3.1 document without a key that lists every endpoint', async () => {
    const res = await t.api('GET', '/api/v1/openapi.json', undefined, null);
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const paths = res.body.paths as Record<string, Record<string, unknown>>;
    const expected: [string, string[]][] = [
      ['/api/v1/channels', ['get', 'post']],
      ['/api/v1/channels/{id}', ['get', 'patch', 'delete']],
      ['/api/v1/contacts', ['get', 'post']],
      ['/api/v1/contacts/{id}', ['get', 'patch', 'delete']],
      ['/api/v1/contacts/import', ['post']],
      ['/api/v1/tags', ['get']],
      ['/api/v1/campaigns', ['get', 'post']],
      ['/api/v1/campaigns/{id}', ['get', 'patch', 'delete']],
      ['/api/v1/campaigns/{id}/audience-preview', ['get']],
      ['/api/v1/campaigns/{id}/send', ['post']],
      ['/api/v1/campaigns/{id}/schedule', ['post']],
      ['/api/v1/campaigns/{id}/cancel', ['post']],
      ['/api/v1/campaigns/{id}/pause', ['post']],
      ['/api/v1/campaigns/{id}/resume', ['post']],
      ['/api/v1/campaigns/{id}/retry-failed', ['post']],
      ['/api/v1/campaigns/{id}/recipients', ['get']],
      ['/api/v1/campaigns/{id}/recipients.csv', ['get']],
    ];
    for (const [path, methods] of expected) {
      expect(paths[path], path).toBeDefined();
      for (const m of methods) expect(paths[path][m], `${m} ${path}`).toBeDefined();
    }
    // Path parameters are declared and the import takes CSV.
    const getOne = paths['/api/v1/campaigns/{id}'].get as { parameters: { name: string; in: string }[] };
    expect(getOne.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path' })]));
    const imp = paths['/api/v1/contacts/import'].post as { requestBody: { content: Record<string, unknown> } };
    expect(Object.keys(imp.requestBody.content)).toContain('text/csv');
  });

  describe('tenant isolation', () => {
    let bKey: string;
    let aChannel: string;
    let aContact: string;
    let aCampaign: string;
    let aScheduled: string;

    beforeAll(async () => {
      bKey = await t.keyFor('other');
      aChannel = await simulatorChannel(t, {}, 1000);
      [aContact] = await addContacts(t, aChannel, [
        { id: 'iso-1', name: 'Isolated Ann', tags: ['iso-tag'] },
        { id: 'iso-2', name: 'Isolated Bob', tags: ['iso-tag'] },
      ]);
      const draft = await t.api('POST', '/api/v1/campaigns', { name: 'A draft', channelId: aChannel, message: { type: 'text', text: 'hi' }, audience: { type: 'all' } });
      expect(draft.status).toBe(201);
      aCampaign = draft.body.id;
      const scheduled = await t.api('POST', '/api/v1/campaigns', { name: 'A later', channelId: aChannel, message: { type: 'text', text: 'hi' }, audience: { type: 'all' }, scheduledAt: future() });
      expect(scheduled.status).toBe(201);
      aScheduled = scheduled.body.id;
    });

    const expect404 = async (method: string, url: string, body?: unknown) => {
      const res = await t.api(method, url, body, bKey);
      expect(res.status, `${method} ${url}`).toBe(404);
      expectErrorShape(res, 'not_found');
      expect(res.text).not.toContain('Isolated');
    };

    it("B gets 404 for every read and write of A's channel, contact and campaigns", async () => {
      await expect404('GET', `/api/v1/channels/${aChannel}`);
      await expect404('PATCH', `/api/v1/channels/${aChannel}`, { name: 'stolen' });
      await expect404('DELETE', `/api/v1/channels/${aChannel}`);
      await expect404('POST', `/api/v1/channels/${aChannel}/test`);

      await expect404('GET', `/api/v1/contacts/${aContact}`);
      await expect404('PATCH', `/api/v1/contacts/${aContact}`, { name: 'stolen' });
      await expect404('DELETE', `/api/v1/contacts/${aContact}`);

      for (const id of [aCampaign, aScheduled]) {
        await expect404('GET', `/api/v1/campaigns/${id}`);
        await expect404('PATCH', `/api/v1/campaigns/${id}`, { name: 'stolen' });
        await expect404('DELETE', `/api/v1/campaigns/${id}`);
        await expect404('POST', `/api/v1/campaigns/${id}/send`);
        await expect404('POST', `/api/v1/campaigns/${id}/schedule`, { scheduledAt: future(7_200_000) });
        await expect404('POST', `/api/v1/campaigns/${id}/cancel`);
        await expect404('POST', `/api/v1/campaigns/${id}/pause`);
        await expect404('POST', `/api/v1/campaigns/${id}/resume`);
        await expect404('POST', `/api/v1/campaigns/${id}/retry-failed`);
        await expect404('POST', `/api/v1/campaigns/${id}/retry-failed`, { onlyRetryable: true });
        await expect404('GET', `/api/v1/campaigns/${id}/recipients`);
        await expect404('GET', `/api/v1/campaigns/${id}/recipients.csv`);
        await expect404('GET', `/api/v1/campaigns/${id}/audience-preview`);
        await expect404('GET', `/api/v1/campaigns/${id}/failures`);
      }

      // Nothing of A changed.
      const channel = await t.api('GET', `/api/v1/channels/${aChannel}`);
      expect(channel.status).toBe(200);
      expect(channel.body.name).toBe('sim');
      const contact = await t.api('GET', `/api/v1/contacts/${aContact}`);
      expect(contact.status).toBe(200);
      expect(contact.body.name).toBe('Isolated Ann');
      const draft = await t.api('GET', `/api/v1/campaigns/${aCampaign}`);
      expect(draft.body).toMatchObject({ name: 'A draft', status: 'draft' });
      const scheduled = await t.api('GET', `/api/v1/campaigns/${aScheduled}`);
      expect(scheduled.body).toMatchObject({ name: 'A later', status: 'scheduled' });
      expect((await t.api('GET', `/api/v1/campaigns/${aCampaign}/audience-preview`)).body).toEqual({ count: 2 });
    });

    it("B's lists are empty", async () => {
      for (const url of ['/api/v1/channels', '/api/v1/contacts', '/api/v1/campaigns', '/api/v1/tags', `/api/v1/tags?channelId=${aChannel}`, `/api/v1/contacts?channelId=${aChannel}`, '/api/v1/contacts?q=Isolated', '/api/v1/contacts?tag=iso-tag']) {
        const res = await t.api('GET', url, undefined, bKey);
        expect(res.status, url).toBe(200);
        expect(res.body, url).toEqual({ items: [], nextCursor: null });
      }
      // …while A's are not.
      expect((await t.api('GET', '/api/v1/contacts?tag=iso-tag')).body.items).toHaveLength(2);
      expect((await t.api('GET', '/api/v1/tags')).body.items).toEqual(expect.arrayContaining([{ tag: 'iso-tag', members: 2 }]));
    });

    it("B cannot use A's channel id for a contact, an import or a campaign", async () => {
      const single = await t.api('POST', '/api/v1/contacts', { name: 'Intruder', identities: [{ channelId: aChannel, providerUserId: 'iso-1' }] }, bKey);
      expect(single.status).toBe(400);
      expectErrorShape(single);

      const bulk = await t.api('POST', '/api/v1/contacts', { contacts: [{ name: 'Intruder', identities: [{ channelId: aChannel, providerUserId: 'iso-new' }] }] }, bKey);
      expect(bulk.status).toBe(200);
      expect(bulk.body.created).toBe(0);
      expect(bulk.body.updated).toBe(0);
      expect(bulk.body.rejected).toEqual([{ index: 0, reason: expect.any(String) }]);

      const csv = await t.api('POST', '/api/v1/contacts/import', `name,channel_id,provider_user_id,tags\nIntruder,${aChannel},iso-2,x\n`, bKey, { 'content-type': 'text/csv' });
      expect(csv.status).toBe(200);
      expect(csv.body).toMatchObject({ imported: 0, updated: 0, rejected: 1 });

      const campaign = await t.api('POST', '/api/v1/campaigns', { name: 'Hijack', channelId: aChannel, message: { type: 'text', text: 'hi' }, audience: { type: 'all' } }, bKey);
      expect(campaign.status).toBe(400);
      expectErrorShape(campaign, 'unknown_channel');

      // B's own contact cannot take an identity on A's channel either.
      const bChannel = await simulatorChannel(t, {}, 1000, bKey);
      const [bContact] = await addContacts(t, bChannel, [{ id: 'b-1', name: 'Bee' }], bKey);
      const patch = await t.api('PATCH', `/api/v1/contacts/${bContact}`, { identities: [{ channelId: aChannel, providerUserId: 'iso-1' }] }, bKey);
      expect(patch.status).toBe(400);
      expectErrorShape(patch, 'unknown_channel');
      // Nor move a campaign of B onto A's channel.
      const bCampaign = await t.api('POST', '/api/v1/campaigns', { name: 'B', channelId: bChannel, message: { type: 'text', text: 'hi' }, audience: { type: 'all' } }, bKey);
      expect(bCampaign.status).toBe(201);
      const move = await t.api('PATCH', `/api/v1/campaigns/${bCampaign.body.id}`, { channelId: aChannel }, bKey);
      expect(move.status).toBe(400);
      expectErrorShape(move, 'unknown_channel');

      // A's contacts are untouched and B sees only its own.
      const ann = await t.api('GET', `/api/v1/contacts/${aContact}`);
      expect(ann.body.name).toBe('Isolated Ann');
      expect(ann.body.identities).toHaveLength(1);
      expect((await t.api('GET', '/api/v1/contacts?q=Intruder')).body.items).toEqual([]);
      expect((await t.api('GET', '/api/v1/contacts', undefined, bKey)).body.items.map((c: { id: string }) => c.id)).toEqual([bContact]);
      expect((await t.api('GET', `/api/v1/campaigns/${aCampaign}/audience-preview`)).body).toEqual({ count: 2 });
      // A does not see B's resources either.
      expect((await t.api('GET', `/api/v1/channels/${bChannel}`)).status).toBe(404);
      expect((await t.api('GET', `/api/v1/contacts/${bContact}`)).status).toBe(404);
      expect((await t.api('GET', `/api/v1/campaigns/${bCampaign.body.id}`)).status).toBe(404);
    });
  });

  describe('hostile input never causes a 5xx', () => {
    type Hostile = { label: string; body?: unknown; raw?: string };
    const big = 'x'.repeat(100 * 1024);
    const manyKeys = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
    const HOSTILE: Hostile[] = [
      { label: 'null', raw: 'null' },
      { label: 'number', raw: '42' },
      { label: 'string', raw: '"hello"' },
      { label: 'boolean', raw: 'true' },
      { label: 'empty array', body: [] },
      { label: 'array of objects', body: [{ name: 'a' }, { name: 'b' }] },
      { label: 'empty object', body: {} },
      { label: 'name is a number', body: { name: 123 } },
      { label: 'name is an array', body: { name: ['a', 'b'] } },
      { label: 'name is an object', body: { name: { first: 'a' } } },
      { label: 'name is null', body: { name: null } },
      { label: '100 KB name', body: { name: big } },
      { label: 'SQL injection name', body: { name: "' OR 1=1 --" } },
      { label: 'SQL drop table', body: { name: "Robert'); DROP TABLE contacts;--" } },
      { label: 'SQL injection ids', body: { channelId: "' OR '1'='1", identities: [{ channelId: "x' OR 1=1 --", providerUserId: "' OR 1=1 --" }] } },
      { label: 'script tag', body: { name: '<script>alert(1)</script>', tags: ['<img src=x onerror=alert(1)>'] } },
      { label: 'unicode', body: { name: '😀 مرحبا 你好 Ñandú \u202eevil\u200b', tags: ['日本語'] } },
      { label: 'lone surrogate', raw: '{"name":"\\ud800x"}' },
      { label: 'deeply nested body (100k levels)', raw: nestedJson(100_000) },
      { label: 'nested attributes', body: { attributes: JSON.parse(nestedJson(50)) } },
      { label: 'nested settings (50 levels)', body: { settings: JSON.parse(nestedJson(50)) } },
      { label: 'nested message', body: { message: JSON.parse(nestedJson(50)) } },
      { label: '__proto__ key', raw: '{"name":"p","__proto__":{"role":"admin"}}' },
      { label: 'nested __proto__ key', raw: '{"name":"p","settings":{"__proto__":{"polluted":true}},"attributes":{"__proto__":{"polluted":true}}}' },
      { label: 'constructor.prototype', raw: '{"name":"p","constructor":{"prototype":{"polluted":true}}}' },
      { label: 'duplicate keys', raw: '{"name":"a","name":"b"}' },
      { label: 'Infinity number', raw: '{"name":"n","rateLimitPerSecond":1e400}' },
      { label: 'huge numbers', body: { rateLimitPerSecond: Number.MAX_VALUE, settings: { latencyMs: -1e308 } } },
      { label: 'NoSQL operator', body: { channelId: { $ne: null }, name: { $gt: '' } } },
      { label: 'identities wrong types', body: { identities: 'x' } },
      { label: 'identities with null', body: { identities: [null, 1, 'x'] } },
      { label: 'contacts null', body: { contacts: null } },
      { label: 'contacts with junk', body: { contacts: [null, 1, 'x', [], { identities: {} }] } },
      { label: 'message text number', body: { message: { type: 'text', text: 123 } } },
      { label: 'message type unknown', body: { message: { type: '__proto__' } } },
      { label: 'audience tags objects', body: { audience: { type: 'tags', tags: [{}, null] } } },
      { label: 'scheduledAt garbage', body: { scheduledAt: 'not a date' } },
      { label: 'scheduledAt impossible', body: { scheduledAt: '9999-99-99T99:99:99Z' } },
      { label: 'scheduledAt far future', body: { scheduledAt: '+275760-09-13T00:00:00.000Z' } },
      { label: 'very long key', body: { ['k'.repeat(10_000)]: 1 } },
      { label: '5,000 keys', body: manyKeys },
      { label: 'provider prototype names', body: { provider: 'constructor' } },
      { label: 'provider toString', body: { provider: 'toString', credentials: { toString: 1, valueOf: 2, hasOwnProperty: 3 } } },
    ];

    const BASES: Record<string, () => Record<string, unknown>> = {
      '/api/v1/channels': () => ({ name: 'hostile', provider: 'simulator' }),
      '/api/v1/contacts': () => ({ name: 'hostile', identities: [{ channelId: ch, providerUserId: 'hostile-user' }] }),
      '/api/v1/campaigns': () => ({ name: 'hostile', channelId: ch, message: { type: 'text', text: 'hi' }, audience: { type: 'all' } }),
    };

    const send = async (url: string, h: Hostile, mergeWith?: Record<string, unknown>) => {
      let payload: string;
      if (h.raw !== undefined) {
        payload = mergeWith && h.raw.startsWith('{') && h.raw.length < 1000 ? JSON.stringify(mergeWith).slice(0, -1) + ',' + h.raw.slice(1) : h.raw;
      } else {
        payload = JSON.stringify(mergeWith && h.body && typeof h.body === 'object' && !Array.isArray(h.body) ? { ...mergeWith, ...h.body } : h.body);
      }
      const res = await t.api('POST', url, payload, undefined, JSON_HEADERS);
      const what = `${url} ${h.label}${mergeWith ? ' (over a valid body)' : ''}: ${res.status} ${res.text.slice(0, 200)}`;
      expect(res.status, what).toBeLessThan(500);
      if (res.status >= 400) expectErrorShape(res);
      return res;
    };

    it.each(Object.keys(BASES))('POST %s', async (url) => {
      for (const h of HOSTILE) {
        await send(url, h);
        await send(url, h, BASES[url]());
      }
      // The process still answers and nothing was polluted.
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).role).toBeUndefined();
      expect((await t.api('GET', '/api/v1/health', undefined, null)).status).toBe(200);
    });

    it('stores hostile strings verbatim where they are valid', async () => {
      const names = ["' OR 1=1 --", "Robert'); DROP TABLE contacts;--", '<script>alert(1)</script>', '😀 مرحبا 你好 Ñandú'];
      for (const [i, name] of names.entries()) {
        const res = await t.api('POST', '/api/v1/contacts', { name, identities: [{ channelId: ch, providerUserId: `verbatim-${i}` }] });
        expect(res.status).toBe(201);
        expect((await t.api('GET', `/api/v1/contacts/${res.body.id}`)).body.name).toBe(name);
        const found = await t.api('GET', `/api/v1/contacts?q=${encodeURIComponent(name)}`);
        expect(found.body.items.map((c: { id: string }) => c.id)).toContain(res.body.id);
        for (const c of found.body.items as { name: string }[]) expect(c.name).toContain(name);
      }
      const chan = await t.api('POST', '/api/v1/channels', { name: "' OR 1=1 --", provider: 'simulator' });
      expect(chan.status).toBe(201);
      expect(chan.body.name).toBe("' OR 1=1 --");
      // The tables are still there.
      expect((await t.api('GET', '/api/v1/contacts?limit=1')).status).toBe(200);
    });

    it('GET /api/v1/contacts with hostile query parameters', async () => {
      const values = [
        "' OR 1=1 --", "%' OR '1'='1", "'; DROP TABLE contacts; --", '\\', '\\%', '%%', '_', '*', '<script>alert(1)</script>',
        '😀', '\u202e', 'ä'.repeat(200), 'x'.repeat(201), 'x'.repeat(5000), ' ', '$ne', '{"$gt":""}', '__proto__', 'constructor',
      ];
      for (const v of values) {
        for (const param of ['q', 'tag', 'channelId']) {
          const res = await t.api('GET', `/api/v1/contacts?${param}=${encodeURIComponent(v)}`);
          const what = `${param}=${v.slice(0, 40)}: ${res.status} ${res.text.slice(0, 200)}`;
          expect(res.status, what).toBeLessThan(500);
          if (res.status >= 400) {
            expectErrorShape(res);
            continue;
          }
          if (param === 'q' && v.trim() !== '') {
            // Whatever matched really contains the text: no injection widened the filter.
            const needle = v.toLowerCase();
            for (const c of res.body.items as { name: string; identities: { providerUserId: string }[] }[]) {
              const hay = [c.name, ...c.identities.map((i) => i.providerUserId)].map((s) => s.toLowerCase());
              expect(hay.some((s) => s.includes(needle)), `${what} matched ${c.name}`).toBe(true);
            }
          }
          if (param === 'tag' || param === 'channelId') expect(res.body.items, what).toEqual([]);
        }
      }
      for (const qs of ['q=a&q=b', 'q[]=a', 'q[$ne]=x', 'limit=-1', 'limit=1e9', 'limit=NaN', 'limit=', 'cursor=!!!!', '__proto__=1', 'constructor[prototype][x]=1']) {
        const res = await t.api('GET', `/api/v1/contacts?${qs}`);
        expect(res.status, `${qs}: ${res.text.slice(0, 200)}`).toBeLessThan(500);
        if (res.status >= 400) expectErrorShape(res);
      }
    });

    it('hostile path parameters are 404s', async () => {
      for (const id of ["' OR 1=1 --", '..%2F..%2Fetc%2Fpasswd', '%3Cscript%3E', 'x'.repeat(2000), '__proto__', MISSING]) {
        for (const base of ['/api/v1/channels', '/api/v1/contacts', '/api/v1/campaigns']) {
          const res = await t.api('GET', `${base}/${encodeURIComponent(id)}`);
          expect(res.status, `${base}/${id.slice(0, 40)}`).toBe(404);
          expectErrorShape(res, 'not_found');
        }
      }
    });

    // PostgreSQL cannot store U+0000 in text; Herald refuses it up front (400) on both databases.
    it('a NUL character in a string or a cursor never gives a 5xx', async () => {
      const calls: [string, string, unknown?][] = [
        ['POST', '/api/v1/contacts', { name: 'nul\u0000name', identities: [{ channelId: ch, providerUserId: 'nul-1' }] }],
        ['POST', '/api/v1/contacts', { name: 'ok', identities: [{ channelId: ch, providerUserId: 'nul\u0000id' }] }],
        ['POST', '/api/v1/contacts', { name: 'ok', tags: ['t\u0000'], identities: [{ channelId: ch, providerUserId: 'nul-3' }] }],
        ['POST', '/api/v1/channels', { name: 'nul\u0000', provider: 'simulator' }],
        ['POST', '/api/v1/campaigns', { name: 'nul\u0000', channelId: ch, message: { type: 'text', text: 'hi' }, audience: { type: 'all' } }],
        ['GET', '/api/v1/contacts?q=%00'],
        ['GET', '/api/v1/contacts/%00'],
        // A cursor is base64url of an id: a tampered one decodes to arbitrary bytes, NUL included.
        ...['AAAA', 'AAAAAAAAAAA', encodeURIComponent("'; DROP TABLE contacts; --"), 'x'.repeat(400)].flatMap((c): [string, string][] => [
          ['GET', `/api/v1/contacts?cursor=${c}`],
          ['GET', `/api/v1/campaigns?cursor=${c}`],
        ]),
      ];
      const bad: string[] = [];
      for (const [method, url, body] of calls) {
        const res = await t.api(method, url, body);
        if (res.status >= 500) bad.push(`${method} ${url} ${JSON.stringify(body) ?? ''} → ${res.status}`);
      }
      expect(bad).toEqual([]);
      const nul = await t.api('POST', '/api/v1/contacts', { name: 'nul\u0000name' });
      expect(nul.status).toBe(400);
      expect(nul.body.error.message).toContain('NUL');
      expect((await t.api('GET', '/api/v1/contacts?cursor=AAAA')).body.error.code).toBe('invalid_cursor');
    });

    // Deep nesting is refused before any schema walks it (a recursive walk would overflow the stack).
    it('deeply nested channel settings give a 400, not a 5xx', async () => {
      const res = await t.api('POST', '/api/v1/channels', `{"name":"deep","provider":"simulator","settings":{"x":${nestedJson(5000)}}}`, undefined, JSON_HEADERS);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    });
  });
});
