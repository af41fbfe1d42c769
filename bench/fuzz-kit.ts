/**
 * Pieces of `npm run bench:fuzz` (bench/fuzz.ts): a seeded PRNG, the catalogue of hostile values,
 * valid request bodies generated from the live OpenAPI document's JSON Schemas and their mutations,
 * JSON encoding with raw fragments (numbers JSON.stringify cannot write, invalid UTF-8 bytes, deep
 * nesting), and two HTTP clients: node:http for ordinary requests and a raw socket for what
 * node:http refuses to send (bad bytes in the request line, lying Content-Length, smuggling…).
 */
import http from 'node:http';
import net from 'node:net';

// ---------------------------------------------------------------- PRNG

/** mulberry32: small, fast, good enough to pick variants; the same seed gives the same stream. */
export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }

  /** A generator for iteration `i` of run `seed`: each request is reproducible from (seed, i). */
  static forIteration(seed: number, i: number): Rng {
    let h = (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    return new Rng((h ^ (h >>> 16)) >>> 0);
  }

  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Picks by weight: [[weight, value], …]. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of items) {
      if ((r -= w) < 0) return v;
    }
    return items[items.length - 1][1];
  }

  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(16)];
    return s;
  }
}

// ---------------------------------------------------------------- raw JSON fragments

/** A JSON fragment written as these exact bytes (not valid JSON on its own, or not JSON at all). */
export class Raw {
  constructor(readonly bytes: Buffer, readonly label: string) {}
  static text(s: string, label = s.slice(0, 40)): Raw {
    return new Raw(Buffer.from(s, 'utf8'), label);
  }
}

const MARK = '__fuzz_raw_9d41_';

/** JSON.stringify, with every Raw value replaced by its bytes. */
export function encodeJson(value: unknown): Buffer {
  const raws: Raw[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Raw) {
      raws.push(v);
      return `${MARK}${raws.length - 1}`;
    }
    return v;
  }) ?? 'null';
  if (raws.length === 0) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  const re = new RegExp(`"${MARK}(\\d+)"`, 'g');
  let last = 0;
  for (const m of text.matchAll(re)) {
    parts.push(Buffer.from(text.slice(last, m.index), 'utf8'), raws[Number(m[1])].bytes);
    last = m.index! + m[0].length;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------- hostile values

export const SQL_INJECTION = [
  "' OR 1=1 --", "' OR '1'='1", "'; DROP TABLE contacts; --", "Robert'); DROP TABLE campaigns;--", '1; SELECT pg_sleep(20)--',
  "' UNION SELECT id, key_hash FROM api_keys --", '" OR ""="', '%\' OR 1=1 --', "\\'; --", "1' AND (SELECT COUNT(*) FROM workspaces) > 0 --",
  "'||(SELECT randomblob(1000000000))||'", "x'); PRAGMA writable_schema=1; --", '$1', '?', ':name', '`id`',
];
export const SCRIPT_INJECTION = [
  '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "javascript:alert('x')", '</textarea><svg onload=alert(1)>',
  '{{constructor.constructor("return process")()}}', '${process.exit(1)}', '{{__proto__}}', '{{name|<b>x</b>}}', '%s%s%s%n', '../../../../etc/passwd',
];
export const UNICODE = [
  '\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\udbff\udfff', '\u202eevil\u202c', '\u200b\u200c\u200d\ufeff', '😀👩‍👩‍👧‍👦🏳️‍🌈', '𝕳𝖊𝖗𝖆𝖑𝖉 𠜎𠜱', 'مرحبا بالعالم', '你好，世界',
  'e\u0301'.repeat(500), '\uffff\ufffe', '\u2028\u2029', '\u001b[31mred\u001b[0m', '\r\n\t\v\f\b', 'Z̴̡̛̤͎̖̗̱͍̲̟͂̊̀̄̔͂͝a̷l̶g̷o̴', '\u0085\u00a0\u3000',
];

export const KB100 = 100 * 1024;
export const MB1 = 1024 * 1024;

/** Nested JSON text: `[[[…]]]` or `{"a":{"a":…}}`, written as text (JSON.stringify would overflow). */
export function deepJson(depth: number, kind: 'array' | 'object'): Raw {
  const text = kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  return Raw.text(text, `${kind} nested ${depth} deep`);
}

/** Bytes that are not UTF-8, inside a JSON string. */
export const INVALID_UTF8: Raw[] = [
  [0xff, 0xfe], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80],
].map((b) => new Raw(Buffer.concat([Buffer.from('"x'), Buffer.from(b), Buffer.from('y"')]), `invalid UTF-8 ${Buffer.from(b).toString('hex')}`));

/** Numbers JSON.stringify cannot write, or writes differently. */
export const RAW_NUMBERS: Raw[] = ['1e400', '-1e400', '1e-400', '-0', '9007199254740993', '123456789012345678901234567890', '0.1e-999999', '1E+308', '-9223372036854775809', '18446744073709551616']
  .map((s) => Raw.text(s, `number ${s}`));
/** Not JSON at all: the whole body becomes malformed JSON. */
export const NOT_JSON: Raw[] = ['NaN', 'Infinity', '-Infinity', 'undefined', '0x10', "'x'", '01', '.5', '+1', 'tru', 'nul', '"unterminated', '[1,]', '{"a" 1}']
  .map((s) => Raw.text(s, `not JSON ${s}`));

export function hostileString(rng: Rng): string {
  return rng.weighted<() => string>([
    [3, () => rng.pick(SQL_INJECTION)],
    [3, () => rng.pick(SCRIPT_INJECTION)],
    [4, () => rng.pick(UNICODE)],
    [1, () => ''],
    [1, () => ' '.repeat(rng.range(1, 5))],
    [2, () => 'x'.repeat(rng.pick([201, 257, 1001, 10_001, 20_001]))],
    [1, () => 'x'.repeat(KB100)],
    [1, () => rng.pick(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'])],
    [1, () => rng.pick(['true', 'null', '0', '-1', '1e309', 'NaN', '[]', '{}', '2024-13-45T25:61:61Z', '9999-12-31T23:59:59Z', '+275760-09-13T00:00:00.000Z', '1970-01-01T00:00:00Z'])],
    [1, () => rng.pick(['00000000-0000-0000-0000-000000000000', '../../etc/passwd', '%2e%2e%2f', 'a/b', '*', '%', '_', '\\'])],
  ])();
}

/** A value of a wrong type, a boundary, or an attack; raw fragments for what JSON.stringify cannot express. */
export function hostileValue(rng: Rng, depth = 0): unknown {
  return rng.weighted<() => unknown>([
    [3, () => null],
    [1, () => rng.pick([true, false])],
    [3, () => rng.pick([0, -1, 1.5, -0.0001, 2 ** 31, 2 ** 31 - 1, -(2 ** 31) - 1, 2 ** 53 + 2, -(2 ** 63), 1e308, -1e308, Number.MIN_VALUE, 0.1 + 0.2])],
    [2, () => rng.pick(RAW_NUMBERS)],
    [6, () => hostileString(rng)],
    [1, () => 'x'.repeat(MB1 + 10)],
    [1, () => rng.pick(INVALID_UTF8)],
    [2, () => rng.pick([[], [null], [1, 'a', {}], ['x']])],
    [1, () => Array.from({ length: rng.pick([1000, 10_001, 100_000]) }, (_, i) => i)],
    [1, () => Array.from({ length: rng.pick([101, 1000, 20_000]) }, (_, i) => `t${i}`)],
    [2, () => rng.pick([{}, { a: 1 }, { type: 'text' }, { $ne: null }, { $gt: '' }])],
    [1, () => Raw.text('{"__proto__":{"polluted":true,"role":"admin"},"constructor":{"prototype":{"polluted":true}}}', '__proto__ object')],
    [1, () => deepJson(rng.pick([31, 33, 100, 10_000, 200_000]), rng.pick(['array', 'object'] as const))],
    [1, () => (depth < 3 ? { [hostileString(rng)]: hostileValue(rng, depth + 1) } : {})],
    [1, () => Object.fromEntries(Array.from({ length: rng.pick([101, 5000]) }, (_, i) => [`k${i}`, i]))],
  ])();
}

// ---------------------------------------------------------------- JSON Schema → valid value → mutations

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
};

/** Values that get a request past validation to the handler: real ids, a future date, a reachable-nowhere URL. */
export interface ValidHints {
  /** A valid value for a property name, or undefined to fall back on the schema. */
  forName(name: string, rng: Rng): unknown;
}

export interface Leaf {
  path: (string | number)[];
  schema: JsonSchema | null;
}

/**
 * A valid instance of `schema`, recording the path and schema of every node (for targeted
 * mutations). `every`: each optional property and at least one item of each array is present.
 */
export function validFor(schema: JsonSchema, rng: Rng, hints: ValidHints, leaves: Leaf[] = [], path: (string | number)[] = [], name = '', every = false): unknown {
  leaves.push({ path, schema });
  const alts = schema.oneOf ?? schema.anyOf;
  if (alts) return validFor(rng.pick(alts), rng, hints, leaves, path, name, every);
  if (schema.const !== undefined) return schema.const;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  const hinted = name && type !== 'object' && type !== 'array' ? hints.forName(name, rng) : undefined;
  if (hinted !== undefined) return hinted;
  if (schema.enum) return rng.pick(schema.enum);
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(schema.properties ?? {})) {
        if (every || schema.required?.includes(k) || rng.chance(0.5)) out[k] = validFor(s, rng, hints, leaves, [...path, k], k, every);
      }
      if (!schema.properties && typeof schema.additionalProperties === 'object' && rng.chance(0.7)) {
        for (let i = 0; i < rng.range(1, 3); i++) out[`key${i}`] = validFor(schema.additionalProperties, rng, hints, leaves, [...path, `key${i}`], `key${i}`, every);
      }
      return out;
    }
    case 'array': {
      const n = Math.min(schema.maxItems ?? 3, Math.max(schema.minItems ?? 0, every ? 1 : 0, rng.range(0, 2)));
      return Array.from({ length: n }, (_, i) => (schema.items ? validFor(schema.items, rng, hints, leaves, [...path, i], name, every) : 'x'));
    }
    case 'integer':
    case 'number': {
      const lo = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 0);
      const hi = Math.min(schema.maximum ?? lo + 100, lo + 1000);
      return type === 'integer' ? Math.round(lo + rng.next() * (hi - lo)) : lo + rng.next() * (hi - lo);
    }
    case 'boolean':
      return rng.chance(0.5);
    case 'string': {
      if (schema.format === 'date-time') return new Date(Date.now() + rng.range(3600, 86_400 * 30) * 1000).toISOString();
      const min = schema.minLength ?? 1;
      return `fuzz-${rng.hex(6)}`.padEnd(min, 'x').slice(0, schema.maxLength ?? 100);
    }
    default:
      return rng.pick(['x', 1, true, null]);
  }
}

function getAt(root: unknown, path: (string | number)[]): unknown {
  let v = root;
  for (const k of path) v = (v as Record<string | number, unknown> | null)?.[k];
  return v;
}

/** Returns root with the value at path replaced (or removed when `remove`). */
export function setAt(root: unknown, path: (string | number)[], value: unknown, remove = false): unknown {
  if (path.length === 0) return value;
  const parent = getAt(root, path.slice(0, -1));
  if (parent === null || typeof parent !== 'object') return root;
  const key = path[path.length - 1];
  if (remove) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete (parent as Record<string, unknown>)[key as string];
  } else {
    (parent as Record<string | number, unknown>)[key] = value;
  }
  return root;
}

/** A value just outside (or exactly on) what the schema allows. */
function boundary(schema: JsonSchema | null, current: unknown, rng: Rng): unknown {
  const type = Array.isArray(schema?.type) ? schema?.type[0] : schema?.type;
  if (type === 'string') {
    return rng.pick([
      '', ' '.repeat(3), 'x'.repeat((schema?.maxLength ?? 200) + 1), 'x'.repeat(schema?.maxLength ?? 200), 'é'.repeat((schema?.maxLength ?? 200) + 1),
      'x'.repeat(Math.max(0, (schema?.minLength ?? 1) - 1)), 1, true, ['x'], { x: 1 },
    ]);
  }
  if (type === 'integer' || type === 'number') {
    const min = schema?.minimum ?? schema?.exclusiveMinimum ?? 0;
    const max = schema?.maximum ?? 1e9;
    return rng.pick([min - 1, min - 0.0001, max + 1, max + 0.5, min + 0.5, -0, -1, 2 ** 53, -(2 ** 53), 1e308, String(min), `${max}`, true, null, rng.pick(RAW_NUMBERS)]);
  }
  if (type === 'array') {
    const max = schema?.maxItems ?? 100;
    return rng.pick([[], Array.from({ length: max + 1 }, () => (Array.isArray(current) && current.length ? current[0] : 'x')), 'x', { 0: 'x' }, [null], [[[]]]]);
  }
  if (type === 'boolean') return rng.pick(['true', 1, 0, 'false', null, []]);
  if (type === 'object') return rng.pick([[], 'x', 1, null, { unknown: 1 }]);
  if (schema?.enum || schema?.const !== undefined) return rng.pick(['', 'unknown', 'ADMIN', ' admin', 'admin ', 'Text', 'text\u0000', '__proto__', 1, null]);
  return hostileValue(rng);
}

export interface BodyMutation {
  body: unknown;
  label: string;
}

/** One targeted change to a valid body: a hostile value, a boundary, a type flip, a missing or unknown field. */
export function mutateBody(valid: unknown, leaves: Leaf[], rng: Rng): BodyMutation {
  const leaf = rng.pick(leaves);
  const where = leaf.path.length ? leaf.path.join('.') : '(root)';
  const op = rng.weighted<string>([[5, 'hostile'], [4, 'boundary'], [2, 'remove'], [2, 'unknown'], [1, 'wrap'], [1, 'root'], [1, 'several']]);
  switch (op) {
    case 'hostile': {
      const v = hostileValue(rng);
      return { body: setAt(valid, leaf.path, v), label: `${where} = ${describe(v)}` };
    }
    case 'boundary': {
      const v = boundary(leaf.schema, getAt(valid, leaf.path), rng);
      return { body: setAt(valid, leaf.path, v), label: `${where} = boundary ${describe(v)}` };
    }
    case 'remove':
      return leaf.path.length ? { body: setAt(valid, leaf.path, undefined, true), label: `${where} removed` } : { body: undefined, label: 'no body' };
    case 'unknown': {
      const parentPath = leaf.path.length ? leaf.path.slice(0, -1) : [];
      const parent = getAt(valid, parentPath);
      const key = rng.pick(['unknown', '__proto__', 'constructor', 'workspaceId', 'workspace_id', 'id', 'role', 'status', 'x'.repeat(10_000), '', '\u0000', '😀']);
      if (parent && typeof parent === 'object' && !Array.isArray(parent)) {
        Object.defineProperty(parent, key, { value: hostileValue(rng), enumerable: true, configurable: true, writable: true });
      }
      return { body: valid, label: `unknown field ${describe(key)} at ${parentPath.join('.') || '(root)'}` };
    }
    case 'wrap': {
      const cur = getAt(valid, leaf.path);
      const v = rng.pick([[cur], { value: cur }, [[cur]]]);
      return { body: setAt(valid, leaf.path, v), label: `${where} wrapped` };
    }
    case 'root': {
      const v = rng.pick<unknown>([null, [], [valid], 42, 'body', true, {}, [valid, valid]]);
      return { body: v, label: `root = ${describe(v)}` };
    }
    default: {
      let body = valid;
      for (let i = 0; i < rng.range(2, 5); i++) {
        const l = rng.pick(leaves);
        if (l.path.length) body = setAt(body, l.path, hostileValue(rng));
      }
      return { body, label: 'several fields hostile' };
    }
  }
}

export function describe(v: unknown): string {
  if (v instanceof Raw) return `raw(${v.label})`;
  if (typeof v === 'string') return v.length > 40 ? `string(${v.length} chars)` : JSON.stringify(v);
  if (Array.isArray(v)) return `array(${v.length})`;
  if (v === null) return 'null';
  if (typeof v === 'object') return `object(${Object.keys(v).length} keys)`;
  return String(v);
}

// ---------------------------------------------------------------- HTTP clients

export interface HttpAnswer {
  /** null when no answer came: see `error`. */
  status: number | null;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  error?: 'timeout' | 'reset' | 'closed' | 'client';
  errorMessage?: string;
  ms: number;
}

export interface HttpOptions {
  method: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer;
  timeoutMs: number;
}

/** One request over node:http (keep-alive agent); never throws. */
export function httpRequest(agent: http.Agent, port: number, o: HttpOptions): Promise<HttpAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (a: Omit<HttpAnswer, 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...a, ms: Math.round(performance.now() - started) });
    };
    let req: http.ClientRequest;
    try {
      // node:http sends a GET, DELETE or OPTIONS body without Content-Length (the server would read
      // it as the next request), so the length is always stated.
      const headers = o.body && !Object.keys(o.headers ?? {}).some((k) => k.toLowerCase() === 'content-length') ? { ...o.headers, 'content-length': String(o.body.length) } : o.headers;
      req = http.request({ host: '127.0.0.1', port, method: o.method, path: o.path, headers, agent });
    } catch (err) {
      // node:http refused to send it (e.g. a character not allowed in a header): not the server's fault.
      finish({ status: null, headers: {}, body: Buffer.alloc(0), error: 'client', errorMessage: (err as Error).message });
      return;
    }
    const timer = setTimeout(() => {
      finish({ status: null, headers: {}, body: Buffer.alloc(0), error: 'timeout', errorMessage: `no complete answer in ${o.timeoutMs} ms` });
      req.destroy();
    }, o.timeoutMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish({ status: res.statusCode ?? null, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (err) => finish({ status: res.statusCode ?? null, headers: res.headers, body: Buffer.concat(chunks), error: 'reset', errorMessage: `response broken: ${err.message}` }));
      res.on('aborted', () => finish({ status: res.statusCode ?? null, headers: res.headers, body: Buffer.concat(chunks), error: 'reset', errorMessage: 'response aborted' }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish({
      status: null, headers: {}, body: Buffer.alloc(0), error: 'reset',
      // On a reused keep-alive socket: the server closed it after its previous answer without saying so.
      errorMessage: `${err.code ?? ''} ${err.message}${req.reusedSocket ? ' (on a reused keep-alive connection)' : ''}`.trim(),
    }));
    if (o.body) req.end(o.body);
    else req.end();
  });
}

export interface RawAnswer {
  responses: { status: number; headers: Record<string, string>; body: Buffer }[];
  /** The server closed the connection (or the client timed out) before a complete answer. */
  incomplete: boolean;
  timedOut: boolean;
  error?: string;
  ms: number;
}

/** Parses as many complete HTTP/1.1 responses as `data` holds. */
function parseResponses(data: Buffer): { responses: RawAnswer['responses']; rest: Buffer } {
  const responses: RawAnswer['responses'] = [];
  let buf = data;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = buf.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
    if (!m) break;
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let rest = buf.subarray(end + 4);
    let body: Buffer;
    const status = Number(m[1]);
    if (status === 101 || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      let complete = false;
      for (;;) {
        const eol = rest.indexOf('\r\n');
        if (eol < 0) break;
        const size = parseInt(rest.subarray(0, eol).toString('latin1'), 16);
        if (Number.isNaN(size) || rest.length < eol + 2 + size + 2) break;
        if (size === 0) {
          const trailerEnd = rest.indexOf('\r\n\r\n', eol - 2 >= 0 ? eol - 2 : 0);
          rest = trailerEnd >= 0 ? rest.subarray(trailerEnd + 4) : rest.subarray(eol + 2);
          complete = true;
          break;
        }
        parts.push(rest.subarray(eol + 2, eol + 2 + size));
        rest = rest.subarray(eol + 2 + size + 2);
      }
      if (!complete) break;
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (rest.length < n) break;
      body = rest.subarray(0, n);
      rest = rest.subarray(n);
    } else {
      body = rest;
      rest = Buffer.alloc(0);
    }
    responses.push({ status, headers, body });
    buf = rest;
    if (buf.length === 0) break;
  }
  return { responses, rest: buf };
}

/**
 * Writes `bytes` to a fresh TCP connection and reads until the server closes it (requests carry
 * `Connection: close`), or `expect` complete answers arrived. `halfClose` ends the write side
 * after sending, as a client that lied about its Content-Length and went away would.
 */
export function rawRequest(port: number, bytes: Buffer, o: { timeoutMs: number; halfClose?: boolean; expect?: number }): Promise<RawAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const socket = net.connect({ host: '127.0.0.1', port });
    const finish = (extra: { timedOut?: boolean; error?: string }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const { responses, rest } = parseResponses(Buffer.concat(chunks));
      resolve({ responses, incomplete: rest.length > 0 || responses.length < (o.expect ?? 1), timedOut: extra.timedOut ?? false, error: extra.error, ms: Math.round(performance.now() - started) });
    };
    const timer = setTimeout(() => finish({ timedOut: true }), o.timeoutMs);
    socket.on('connect', () => {
      socket.write(bytes);
      if (o.halfClose) socket.end();
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (o.expect !== undefined && parseResponses(Buffer.concat(chunks)).responses.length >= o.expect) finish({});
    });
    socket.on('end', () => finish({}));
    socket.on('close', () => finish({}));
    socket.on('error', (err: NodeJS.ErrnoException) => finish({ error: `${err.code ?? ''} ${err.message}`.trim() }));
  });
}

/** Herald's error shape: exactly `{"error": {"code", "message", "details"?}}`. */
export function heraldErrorShape(body: Buffer): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return `not JSON: ${JSON.stringify(body.subarray(0, 120).toString('utf8'))}`;
  }
  const e = (parsed as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.keys(parsed).length !== 1 || !e || typeof e !== 'object') {
    return `not {"error":{…}}: ${JSON.stringify(body.subarray(0, 120).toString('utf8'))}`;
  }
  if (typeof e.code !== 'string' || !e.code || typeof e.message !== 'string' || !e.message) return `error without code/message: ${body.subarray(0, 120).toString('utf8')}`;
  if (Object.keys(e).some((k) => !['code', 'message', 'details'].includes(k))) return `error with extra keys: ${Object.keys(e).join(',')}`;
  return null;
}
