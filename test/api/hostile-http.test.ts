import { createHmac } from 'node:crypto';
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN_KEY, DIALECTS, addContacts, simulatorChannel, startHerald, waitFor, type TestHerald } from '../helpers/harness.ts';

/**
 * Regressions found by `npm run bench:fuzz` (bench/fuzz.ts): each test is one bug the fuzz run
 * met against a real Herald on a real port, replayed over a raw socket where node:http or
 * fetch cannot send the request.
 */

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses the complete HTTP/1.1 responses in `data` (Content-Length or chunked bodies). */
function parseResponses(data: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let buf: Buffer = data;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return out;
    const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
    let rest = buf.subarray(end + 4);
    let body: Buffer = Buffer.alloc(0);
    if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const eol = rest.indexOf('\r\n');
        if (eol < 0) return out;
        const size = parseInt(rest.subarray(0, eol).toString(), 16);
        if (rest.length < eol + 4 + size) return out;
        if (size === 0) {
          rest = rest.subarray(eol + 4);
          break;
        }
        parts.push(rest.subarray(eol + 2, eol + 2 + size));
        rest = rest.subarray(eol + 4 + size);
      }
      body = Buffer.concat(parts);
    } else {
      const n = Number(headers['content-length'] ?? 0);
      if (rest.length < n) return out;
      body = rest.subarray(0, n);
      rest = rest.subarray(n);
    }
    out.push({ status: Number(lines[0].split(' ')[1]), headers, body: body.toString('utf8') });
    buf = rest;
  }
}

/** Opens a connection; `send` writes, `responses(n)` waits for n complete answers or the close. */
function connection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let data: Buffer = Buffer.alloc(0);
  let closed = false;
  socket.on('data', (c: Buffer) => { data = Buffer.concat([data, c]); });
  socket.on('close', () => { closed = true; });
  return {
    send: (bytes: string | Buffer) => new Promise<void>((resolve) => socket.write(bytes, () => resolve())),
    async responses(n: number, timeoutMs = 5000): Promise<RawResponse[]> {
      const deadline = Date.now() + timeoutMs;
      while (parseResponses(data).length < n && !closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return parseResponses(data);
    },
    get closed() { return closed; },
    close: () => socket.destroy(),
  };
}

async function raw(port: number, request: string | Buffer, n = 1): Promise<RawResponse[]> {
  const c = connection(port);
  await c.send(request);
  const res = await c.responses(n);
  c.close();
  return res;
}

function expectErrorShape(r: RawResponse, code: string) {
  expect(r.headers['content-type'], r.body).toMatch(/^application\/json/);
  const body = JSON.parse(r.body);
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
}

const AUTH = `Authorization: Bearer ${ADMIN_KEY}\r\n`;

describe.each(DIALECTS)('hostile HTTP found by bench:fuzz, on %s', (dialect) => {
  let t: TestHerald;
  let port: number;
  let ch: string;
  const logs: { level: number; msg: string }[] = [];

  beforeAll(async () => {
    const sink = new Writable({ write(chunk, _enc, cb) { for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line)); cb(); } });
    t = await startHerald(dialect, { logger: pino({ level: 'info' }, sink) });
    const address = await t.herald.app!.listen({ port: 0, host: '127.0.0.1' });
    port = Number(new URL(address).port);
    ch = await simulatorChannel(t);
  });
  afterAll(() => t.close());

  // The onRequest hook looked at the raw URL while the router also matches the absolute form and
  // percent-encoded paths: such a request reached a handler with no credentials checked (a 500).
  it('a path only the router decodes is authenticated like any other', async () => {
    for (const target of [`http://evil.example/api/v1/campaigns`, '/%61pi/v1/campaigns', '/api/v1/%63ampaigns', 'https://x/api/v1/channels']) {
      const [anon] = await raw(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(anon.status, target).toBe(401);
      expectErrorShape(anon, 'unauthorized');
      const [keyed] = await raw(port, `GET ${target} HTTP/1.1\r\nHost: x\r\n${AUTH}Connection: close\r\n\r\n`);
      expect(keyed.status, target).toBe(200);
      expect(JSON.parse(keyed.body)).toHaveProperty('items');
    }
    const [post] = await raw(port, `POST http://evil.example/api/v1/channels HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
    expect(post.status).toBe(401);
  });

  // Node's parser and Fastify's router answered in their own shapes, and a parser error's answer
  // lacked Connection: close, so a keep-alive client sent its next request into a closed socket.
  it("the parser's and the router's refusals are in the API's error shape", async () => {
    const [nul] = await raw(port, `GET /api/v1/channels HTTP/1.1\r\nHost: x\r\nX-Test: a\u0000b\r\n\r\n`);
    expect(nul.status).toBe(400);
    expectErrorShape(nul, 'bad_request');
    expect(nul.headers.connection).toBe('close');

    const [big] = await raw(port, `GET /api/v1/channels?q=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`);
    expect(big.status).toBe(431);
    expectErrorShape(big, 'headers_too_large');
    expect(big.headers.connection).toBe('close');

    const [twoLengths] = await raw(port, `POST /api/v1/channels HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`);
    expect(twoLengths.status).toBe(400);
    expectErrorShape(twoLengths, 'bad_request');

    const [badUrl] = await raw(port, `GET /api/v1/channels/%zz HTTP/1.1\r\nHost: x\r\n${AUTH}Connection: close\r\n\r\n`);
    expect(badUrl.status).toBe(400);
    expectErrorShape(badUrl, 'bad_request');

    const [longId] = await raw(port, `POST /api/v1/campaigns/${'x'.repeat(101)}/send HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 0\r\nConnection: close\r\n\r\n`);
    expect(longId.status).toBe(404);
    expectErrorShape(longId, 'not_found');
  });

  // A plain GET of the WebSocket route answered 404 with an empty body, a bad handshake got ws's
  // plain-text 400, and a message over 64 KiB was logged as a server error (and closed as 1006).
  it('the WebSocket route answers every refusal in the error shape', async () => {
    const plain = await t.api('GET', '/api/v1/ws');
    expect(plain.status).toBe(426);
    expect(plain.body.error.code).toBe('upgrade_required');
    expect((await t.api('GET', '/api/v1/ws', undefined, null)).body.error.code).toBe('unauthorized');

    const upgrade = (headers: string) => raw(port, `GET /api/v1/ws?token=${ADMIN_KEY} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${headers}\r\n`);
    for (const headers of ['Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n', 'Sec-WebSocket-Version: 12\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n', 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: a,,b\r\n']) {
      const [r] = await upgrade(headers);
      expect(r.status, headers).toBe(400);
      expectErrorShape(r, 'bad_request');
    }
    const [onApiRoute] = await raw(port, `GET /api/v1/channels HTTP/1.1\r\nHost: x\r\n${AUTH}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: bad\r\n\r\n`);
    expect(onApiRoute.status).toBe(400);
    expectErrorShape(onApiRoute, 'bad_request');

    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws?token=${ADMIN_KEY}`);
    const messages: any[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once('open', r));
    // PostgreSQL cannot compare an id with NUL: the subscription got no answer at all.
    ws.send(JSON.stringify({ type: 'subscribe', campaignId: 'a\u0000b' }));
    ws.send(JSON.stringify({ type: 'subscribe', campaignId: 'x'.repeat(5000) }));
    await waitFor(async () => messages.length >= 2, 5000, 'answers');
    expect(messages.map((m) => [m.type, m.code])).toEqual([['error', 'not_found'], ['error', 'not_found']]);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('x'.repeat(70 * 1024));
    expect(await closed).toBe(1009);
    await new Promise((r) => setTimeout(r, 100));
    expect(logs.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
  });

  // Fastify refuses a body over the limit before reading it and closed the connection with the
  // rest unread: the kernel reset it, and a client still uploading got EPIPE, not the 413.
  it('a body over the limit: the sender reads the 413 and the connection stays usable', async () => {
    const total = 3 * 1024 * 1024;
    const c = connection(port);
    await c.send(`POST /api/v1/channels HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nContent-Length: ${total}\r\n\r\n{"name":"`);
    const [early] = await c.responses(1);
    expect(early.status).toBe(413);
    expectErrorShape(early, 'payload_too_large');
    expect(early.headers.connection).not.toBe('close');
    await c.send(Buffer.alloc(total - 9, 'x'));
    await c.send(`GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n`);
    const [, health] = await c.responses(2);
    expect(health?.status).toBe(200);
    c.close();

    // The same with a chunked body: Fastify stops reading at the limit, mid-body.
    const chunk = Buffer.alloc(256 * 1024, 'x');
    const chunked = Buffer.concat([
      Buffer.from(`POST /api/v1/channels HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`),
      ...Array.from({ length: 8 }, () => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])),
      Buffer.from('0\r\n\r\nGET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    ]);
    const [tooLarge, after] = await raw(port, chunked, 2);
    expect(tooLarge.status).toBe(413);
    expect(after?.status).toBe(200);
  });

  // The import answered 400 at the header row but left the rest of the body unread, so the next
  // request on that keep-alive connection was never read: it hung.
  it('a CSV import refused before the end of its body leaves the connection usable', async () => {
    const csv = `not,a,header\n${'x,y,z\n'.repeat(200_000)}`;
    const [refused, health] = await raw(port, `POST /api/v1/contacts/import HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: text/csv\r\nContent-Length: ${Buffer.byteLength(csv)}\r\n\r\n${csv}GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 2);
    expect(refused.status).toBe(400);
    expectErrorShape(refused, 'validation_failed');
    expect(health?.status).toBe(200);
  });

  // csv-parse names one of its errors INVALID_OPENING_QUOTE, without the CSV_ prefix the import
  // looked for: a quote inside an unquoted field was a 500.
  it('every malformed CSV is a 400', async () => {
    for (const row of ['x,CH,u-1,a"b', '"unclosed,CH,u-2,t', '"a"b,CH,u-3,t']) {
      const res = await t.api('POST', '/api/v1/contacts/import', `name,channel_id,provider_user_id,tags\n${row.replace('CH', ch)}\n`, undefined, { 'content-type': 'text/csv' });
      expect(res.status, row).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });

  // Signed payloads reach the database: NUL (PostgreSQL text cannot hold it) and times that are
  // no bigint (1.5, 1e300, 1e400 = Infinity) were 500s, which providers retry forever.
  it('webhook payloads the database cannot store are dropped or cleaned, never a 500', async () => {
    const tg = (await t.api('POST', '/api/v1/channels', { name: 'tg', provider: 'telegram', credentials: { botToken: '1:x', webhookSecret: 'tg-secret' }, settings: { apiBaseUrl: 'http://127.0.0.1:9' } })).body.id;
    const ms = (await t.api('POST', '/api/v1/channels', { name: 'ms', provider: 'messenger', credentials: { pageAccessToken: 't', pageId: '1', appSecret: 'ms-secret', verifyToken: 'v' }, settings: { apiBaseUrl: 'http://127.0.0.1:9' } })).body.id;
    const telegram = (body: string) => t.herald.app!.inject({ method: 'POST', url: `/webhooks/${tg}`, headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'tg-secret' }, payload: body });
    const messenger = (event: string) => {
      const body = `{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2500"},"timestamp":1700000000000,${event}}]}]}`;
      return t.herald.app!.inject({ method: 'POST', url: `/webhooks/${ms}`, headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', 'ms-secret').update(body).digest('hex')}` }, payload: body });
    };
    for (const body of [
      '{"update_id":1,"message":{"message_id":1,"chat":{"id":"7\\u0000","type":"private","first_name":"Nul"}}}',
      '{"update_id":2,"my_chat_member":{"chat":{"id":"8\\u0000"},"new_chat_member":{"status":"kicked"}}}',
      '{"update_id":3,"message":{"message_id":1,"chat":{"id":9,"type":"private","first_name":"Ann\\u0000e"}}}',
    ]) {
      const res = await telegram(body);
      expect(res.statusCode, body).toBe(200);
    }
    for (const event of ['"read":{"watermark":1e300}', '"read":{"watermark":1e400}', '"read":{"watermark":1.5}', '"delivery":{"mids":["m\\u0000"],"watermark":1}', '"message":{"mid":"a\\u0000b"}']) {
      const res = await messenger(event);
      expect(res.statusCode, event).toBe(200);
    }
    const members = (await t.api('GET', `/api/v1/contacts?channelId=${tg}`)).body.items;
    expect(members.map((c: { name: string; identities: { providerUserId: string }[] }) => [c.name, c.identities[0].providerUserId])).toEqual([['Anne', '9']]);
    const nulUrl = await t.herald.app!.inject({ method: 'GET', url: '/webhooks/%00?hub.mode=subscribe&hub.verify_token=v&hub.challenge=1' });
    expect(nulUrl.statusCode).toBe(404);
    expect((await t.herald.app!.inject({ method: 'POST', url: `/webhooks/${tg}%00`, headers: { 'content-type': 'application/json' }, payload: '{}' })).statusCode).toBe(404);
  });

  // On PostgreSQL a write can interleave with another between its check and its insert: a double
  // submit, or a PATCH racing a DELETE, was a 500 (unique or foreign key violation, deadlock).
  it('concurrent writes of the same contact or user never give a 5xx', async () => {
    const same = await Promise.all(Array.from({ length: 8 }, () => t.api('POST', '/api/v1/contacts', { name: 'Twin', identities: [{ channelId: ch, providerUserId: 'twin' }] })));
    expect(same.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    const bulk = await Promise.all(Array.from({ length: 8 }, () => t.api('POST', '/api/v1/contacts', { contacts: [{ name: 'Bulk twin', tags: ['t'], identities: [{ channelId: ch, providerUserId: 'bulk-twin' }] }] })));
    expect(bulk.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect((await t.api('GET', '/api/v1/contacts?q=twin')).body.items).toHaveLength(2);

    const users = await Promise.all(Array.from({ length: 6 }, () => t.api('POST', '/api/v1/users', { email: 'race@example.com', name: 'Race', role: 'viewer', password: 'race-password-1' })));
    expect(users.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);

    for (let i = 0; i < 6; i++) {
      const [id] = await addContacts(t, ch, [{ id: `race-${i}`, tags: ['a'] }]);
      const results = await Promise.all([
        t.api('PATCH', `/api/v1/contacts/${id}`, { tags: ['b', 'c'], identities: [{ channelId: ch, providerUserId: `race-${i}` }, { channelId: ch, providerUserId: `race-${i}-2` }] }),
        t.api('PATCH', `/api/v1/contacts/${id}`, { name: 'renamed', tags: ['d'] }),
        t.api('DELETE', `/api/v1/contacts/${id}`),
        t.api('POST', '/api/v1/contacts', { contacts: [{ name: 'again', tags: ['q'], identities: [{ channelId: ch, providerUserId: `race-${i}` }] }] }),
      ]);
      for (const r of results) expect(r.status, r.text).toBeLessThan(500);
      expect([204, 404]).toContain(results[2].status);
    }
    // Two contacts claiming the same new identity at once: one gets it, the other a 409.
    const [x, y] = await addContacts(t, ch, [{ id: 'claim-x' }, { id: 'claim-y' }]);
    const claims = await Promise.all([x, y].map((id) => t.api('PATCH', `/api/v1/contacts/${id}`, { identities: [{ channelId: ch, providerUserId: 'claimed' }] })));
    expect(claims.map((r) => r.status).sort()).toEqual([200, 409]);
  });
});
