import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, DIALECTS, startHerald, type TestHerald } from '../helpers/harness.ts';

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
  const logs: { level: number; msg: string }[] = [];

  beforeAll(async () => {
    const sink = new Writable({ write(chunk, _enc, cb) { for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line)); cb(); } });
    t = await startHerald(dialect, { logger: pino({ level: 'info' }, sink) });
    const address = await t.herald.app!.listen({ port: 0, host: '127.0.0.1' });
    port = Number(new URL(address).port);
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
});
