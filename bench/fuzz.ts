/**
 * `npm run bench:fuzz`: a bounded, repeatable run that proves two things against a real Herald
 * process (a child `herald start` on 127.0.0.1, port 0, SQLite or BENCH_DB_URL's PostgreSQL):
 *
 * (a) the HTTP surface never answers 5xx, never resets or hangs, logs no error, and answers every
 *     4xx of /api/ and /webhooks/ in Herald's error shape, whatever it is sent. Routes come from
 *     the live OpenAPI document, plus webhooks, the WebSocket and a few others. First every field
 *     of every JSON body gets every wrong type (a deterministic sweep); then FUZZ_ITERATIONS
 *     variants drawn from a seeded PRNG (request i is reproducible from FUZZ_SEED and i): schema-
 *     driven body mutations (hostile values, boundaries, missing and unknown fields), encodings
 *     (malformed JSON, invalid UTF-8, UTF-16, wrong content types, bodies over the limit, deep
 *     nesting), path and query parameters, credentials (keys, roles, session cookies, CSRF),
 *     other methods, raw HTTP protocol violations over a socket, double submits racing a DELETE,
 *     WebSocket sessions, and signed webhooks of the five providers (WhatsApp, Messenger and
 *     Twilio channels send to mock providers, so receipts can name real message ids);
 * (b) tenant isolation (bench/fuzz-isolation.ts): workspace B gets 404 for every route called
 *     with workspace A's ids, sees none of A's objects in its lists and WebSocket, and A is unchanged.
 *
 * Environment: FUZZ_SEED (default 1), FUZZ_ITERATIONS (random variants, default 16000: about
 * 1–1.5 min on SQLite, 1.5–3 min on PostgreSQL, more on a busy machine), FUZZ_CONCURRENCY (default 4), FUZZ_REQUEST_TIMEOUT_MS
 * (a hang, default 10000), FUZZ_DEADLINE_S (the whole run, default 600, then exit 3),
 * BENCH_DB_URL (postgres://…[?schema=name]: the schema is created if missing; without one a
 * temporary schema is used and dropped), FUZZ_VERBOSE=1 (every failure, not the first 40),
 * FUZZ_TRACE=from-to (print those iterations with start time and duration).
 * Exit code 0 only when nothing failed; 2 when the run itself broke; 3 at the deadline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { report, startMock, type MockHandle } from './lib.ts';
import { MOCK_CREDENTIALS, type RealProvider } from '../test/mock-providers/index.ts';
import {
  INVALID_UTF8, MB1, NOT_JSON, Rng, deepJson, describe, encodeJson, heraldErrorShape, hostileString,
  hostileValue, httpRequest, mutateBody, rawRequest, setAt, validFor, type JsonSchema, type Leaf, type ValidHints,
} from './fuzz-kit.ts';
import { runIsolationSweep } from './fuzz-isolation.ts';
import { authHeaders, cliKey, makeApi, prepareDatabase, startHerald, type Api, type Auth } from './fuzz-herald.ts';
import { signLineBody } from '../src/providers/line/line-webhook.ts';
import { signMetaBody } from '../src/providers/meta-graph.ts';
import { signTwilioRequest, type FormParams } from '../src/providers/twilio/twilio-webhook.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 1) >>> 0;
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 16_000);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 4);
const TIMEOUT_MS = Number(process.env.FUZZ_REQUEST_TIMEOUT_MS ?? 10_000);
const DEADLINE_S = Number(process.env.FUZZ_DEADLINE_S ?? 600);
const VERBOSE = process.env.FUZZ_VERBOSE === '1';
/** FUZZ_TRACE=from-to: print each of those iterations with its start and duration. */
const TRACE = process.env.FUZZ_TRACE ? process.env.FUZZ_TRACE.split('-').map(Number) : null;
const ADMIN_KEY = `fuzz-admin-${randomBytes(12).toString('hex')}`;
const PUBLIC_URL = 'http://herald.fuzz.invalid';
const started = Date.now();

// ---------------------------------------------------------------- failures and counters

interface Failure {
  kind: string;
  what: string;
  request: string;
  detail: string;
}

class Tally {
  requests = 0;
  byStatus: Record<string, number> = {};
  failures: Failure[] = [];
  hangs = 0;
  resets = 0;
  status5xx = 0;
  badErrorBodies = 0;
  notSent = 0;
  slowestMs = 0;
  /** The slowest answers, with what was asked: a slow answer points at work that blocks Herald. */
  slowest: { ms: number; what: string }[] = [];

  timing(ms: number, what: string): void {
    this.slowestMs = Math.max(this.slowestMs, ms);
    if (ms < 1000) return;
    this.slowest.push({ ms, what });
    this.slowest.sort((a, b) => b.ms - a.ms).splice(10);
  }

  fail(f: Failure): void {
    this.failures.push(f);
    if (VERBOSE || this.failures.length <= 40) process.stderr.write(`FAIL ${f.kind}: ${f.what}\n  request: ${f.request}\n  detail: ${f.detail}\n`);
  }

  count(key: string): void {
    this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
  }
}

const tally = new Tally();

/** A request as printed in a failure: method, path, headers that matter, body prefix. */
function describeRequest(r: { method: string; path: string; headers?: Record<string, unknown>; body?: Buffer | null }): string {
  const p = r.path.length > 200 ? `${r.path.slice(0, 200)}…(${r.path.length} chars)` : r.path;
  const h = Object.entries(r.headers ?? {}).filter(([k]) => !['content-length', 'host', 'connection'].includes(k.toLowerCase()))
    .map(([k, v]) => `${k}: ${String(v).slice(0, 80)}`).join(' | ');
  const b = r.body ? ` body(${r.body.length} B)=${JSON.stringify(r.body.subarray(0, 200).toString('utf8'))}` : '';
  return `${r.method} ${p}${h ? ` [${h}]` : ''}${b}`;
}

// ---------------------------------------------------------------- fixtures: what valid requests point at

/** Channels of the five real providers, with the mocks' credentials (webhooks are signed with them). */
const HOOK_CREDENTIALS = MOCK_CREDENTIALS;
type HookProvider = RealProvider;
const HOOK_PROVIDERS = Object.keys(HOOK_CREDENTIALS) as HookProvider[];
/** Providers with delivery receipts: their channels send to a mock, so receipts can name real message ids. */
const RECEIPT_PROVIDERS: HookProvider[] = ['whatsapp', 'messenger', 'twilio'];
/** Where the real-provider channels send: a closed port, so nothing leaves the machine. */
const DEAD_URL = 'http://127.0.0.1:9';

interface Fixtures {
  admin: string;
  operator: string;
  viewer: string;
  session: { cookie: string; email: string; password: string; userId: string };
  loginTarget: { email: string; password: string };
  primaryChannel: string;
  /** Simulator channels other than the primary: fair game for PATCH and DELETE. */
  spareChannels: string[];
  hookChannels: Record<HookProvider, string>;
  contacts: string[];
  campaigns: string[];
  users: string[];
  keys: string[];
  tags: string[];
  cursors: string[];
  providerUsers: Record<HookProvider, string[]>;
  /** Provider message ids of messages sent on the receipt channels: receipts that match a recipient. */
  messageIds: Record<HookProvider, string[]>;
}

const cap = (list: string[], id: string, max: number) => {
  if (!list.includes(id)) list.push(id);
  if (list.length > max) list.splice(0, list.length - max);
};

async function must(api: Api, method: string, p: string, body: unknown, auth: Auth, want: number[]): Promise<any> {
  const res = await api.call(method, p, body, auth);
  if (!want.includes(res.status)) throw new Error(`fixture ${method} ${p}: ${res.status} ${res.text.slice(0, 300)}`);
  return res.json;
}

async function login(api: Api, email: string, password: string): Promise<string> {
  const res = await api.call('POST', '/api/v1/auth/login', { email, password }, null, { 'x-herald-csrf': '1' });
  const cookie = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('herald_session='));
  if (res.status !== 200 || !cookie) throw new Error(`login failed: ${res.status} ${res.text}`);
  return cookie.slice('herald_session='.length).split(';')[0];
}

async function createFixtures(api: Api, mockUrls: Partial<Record<HookProvider, string>>): Promise<Fixtures> {
  const A: Auth = { key: ADMIN_KEY };
  const operator = (await must(api, 'POST', '/api/v1/api-keys', { name: 'fuzz operator', role: 'operator' }, A, [201])).key;
  const viewer = (await must(api, 'POST', '/api/v1/api-keys', { name: 'fuzz viewer', role: 'viewer' }, A, [201])).key;
  const password = 'fuzz-password-0123';
  // Unique per run: a PostgreSQL schema given in BENCH_DB_URL may hold an earlier run's users.
  const run = randomBytes(4).toString('hex');
  const email = `fuzz-admin-${run}@example.com`;
  const sessionUser = await must(api, 'POST', '/api/v1/users', { email, name: 'Fuzz Admin', role: 'admin', password }, A, [201]);
  await must(api, 'POST', '/api/v1/users', { email: `fuzz-login-${run}@example.com`, name: 'Fuzz Login', role: 'viewer', password }, A, [201]);
  const cookie = await login(api, email, password);
  const sim = async (name: string) => (await must(api, 'POST', '/api/v1/channels', { name, provider: 'simulator', rateLimitPerSecond: 2000, settings: { latencyMs: 0 } }, A, [201])).id as string;
  const primaryChannel = await sim('fuzz primary');
  const spareChannels = [await sim('fuzz spare 1'), await sim('fuzz spare 2')];
  const hookChannels = {} as Record<HookProvider, string>;
  for (const p of HOOK_PROVIDERS) {
    hookChannels[p] = (await must(api, 'POST', '/api/v1/channels', { name: `fuzz ${p}`, provider: p, credentials: HOOK_CREDENTIALS[p], rateLimitPerSecond: 500, settings: { apiBaseUrl: mockUrls[p] ?? DEAD_URL, timeoutMs: 1000 } }, A, [201])).id;
  }
  const providerUsers: Record<HookProvider, string[]> = {
    whatsapp: ['15550100001', '15550100002'], line: [`U${'a'.repeat(31)}1`, `U${'a'.repeat(31)}2`], telegram: ['700000001', '700000002'],
    messenger: ['2500000000001', '2500000000002'], twilio: ['+15550200001', '+15550200002'],
  };
  const tags = ['vip', 'news', 'fuzz-tag', 'été'];
  const contacts = [
    ...Array.from({ length: 30 }, (_, i) => ({ name: `Fuzz ${i}`, tags: [tags[i % tags.length]], attributes: { city: 'Tokyo', n: i }, identities: [{ channelId: primaryChannel, providerUserId: `${i % 7 === 0 ? 'fail-' : 'u-'}${i}` }] })),
    ...HOOK_PROVIDERS.flatMap((p) => providerUsers[p].map((u) => ({ name: `${p} ${u}`, tags: ['hook'], identities: [{ channelId: hookChannels[p], providerUserId: u }] }))),
  ];
  const bulk = await must(api, 'POST', '/api/v1/contacts', { contacts }, A, [200]);
  // One campaign per receipt channel, so receipts can name the provider message ids it recorded.
  const messageIds = Object.fromEntries(HOOK_PROVIDERS.map((p) => [p, [] as string[]])) as Record<HookProvider, string[]>;
  for (const p of RECEIPT_PROVIDERS) {
    const c = await must(api, 'POST', '/api/v1/campaigns', { name: `fuzz receipts ${p}`, channelId: hookChannels[p], message: { type: 'text', text: 'Hi' }, audience: { type: 'all' } }, A, [201]);
    await must(api, 'POST', `/api/v1/campaigns/${c.id}/send`, undefined, A, [200]);
    for (let i = 0; i < 200; i++) {
      const r = await must(api, 'GET', `/api/v1/campaigns/${c.id}/recipients`, undefined, A, [200]);
      messageIds[p] = r.items.map((x: { providerMessageId: string | null }) => x.providerMessageId).filter(Boolean);
      if (messageIds[p].length === providerUsers[p].length) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    if (!messageIds[p].length) throw new Error(`no message was sent on the ${p} mock`);
  }
  const fx: Fixtures = {
    admin: ADMIN_KEY, operator, viewer, session: { cookie, email, password, userId: sessionUser.id },
    loginTarget: { email: `fuzz-login-${run}@example.com`, password }, primaryChannel, spareChannels, hookChannels,
    contacts: bulk.items.map((x: { id: string }) => x.id), campaigns: [], users: [], keys: [], tags, cursors: [], providerUsers, messageIds,
  };
  await replenish(api, fx, true);
  return fx;
}

async function newCampaign(api: Api, fx: Fixtures, extra: Record<string, unknown> = {}): Promise<string> {
  return (await must(api, 'POST', '/api/v1/campaigns', {
    name: `fuzz ${randomBytes(3).toString('hex')}`, channelId: fx.primaryChannel, message: { type: 'text', text: 'Hi {{name|there}} from {{city|here}}' }, audience: { type: 'all' }, ...extra,
  }, { key: fx.admin }, [201])).id;
}

/** Tops the pools up so valid ids keep reaching handlers while the fuzz deletes and sends them. */
async function replenish(api: Api, fx: Fixtures, first = false): Promise<void> {
  const A: Auth = { key: fx.admin };
  while (fx.spareChannels.length < 2) {
    fx.spareChannels.push((await must(api, 'POST', '/api/v1/channels', { name: 'fuzz spare', provider: 'simulator', rateLimitPerSecond: 2000, settings: { latencyMs: 0 } }, A, [201])).id);
  }
  const primary = await api.call('GET', `/api/v1/channels/${fx.primaryChannel}`, undefined, A);
  if (primary.status !== 200) throw new Error(`the primary channel is gone: ${primary.status}`);
  if (fx.contacts.length < 10) {
    const res = await must(api, 'POST', '/api/v1/contacts', { contacts: Array.from({ length: 10 }, (_, i) => ({ name: `Refill ${i}`, tags: ['vip'], identities: [{ channelId: fx.primaryChannel, providerUserId: `refill-${randomBytes(4).toString('hex')}` }] })) }, A, [200]);
    fx.contacts.push(...res.items.map((x: { id: string }) => x.id));
  }
  const list = await must(api, 'GET', '/api/v1/campaigns?limit=200', undefined, A, [200]);
  const statuses = new Map<string, string>(list.items.map((c: { id: string; status: string }) => [c.id, c.status]));
  fx.campaigns = fx.campaigns.filter((id) => statuses.has(id));
  const count = (s: string) => fx.campaigns.filter((id) => statuses.get(id) === s).length;
  for (let i = count('draft'); i < 3; i++) fx.campaigns.push(await newCampaign(api, fx));
  if (count('scheduled') < 1) fx.campaigns.push(await newCampaign(api, fx, { scheduledAt: new Date(Date.now() + 86_400_000).toISOString() }));
  if (first || !fx.campaigns.some((id) => ['sent', 'partial', 'failed'].includes(statuses.get(id) ?? ''))) {
    const id = await newCampaign(api, fx);
    await must(api, 'POST', `/api/v1/campaigns/${id}/send`, undefined, A, [200]);
    for (let i = 0; i < 200; i++) {
      const c = await must(api, 'GET', `/api/v1/campaigns/${id}`, undefined, A, [200]);
      if (['sent', 'partial', 'failed'].includes(c.status)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    fx.campaigns.push(id);
    const retry = await api.call('POST', `/api/v1/campaigns/${id}/retry-failed`, undefined, A);
    if (retry.status === 201) fx.campaigns.push(retry.json.id);
  }
  if (fx.users.length < 2) {
    const u = await must(api, 'POST', '/api/v1/users', { email: `fuzz-${randomBytes(4).toString('hex')}@example.com`, name: 'Throwaway', role: 'operator', password: 'throwaway-password-1' }, A, [201]);
    fx.users.push(u.id);
  }
  while (fx.keys.length < 2) fx.keys.push((await must(api, 'POST', '/api/v1/api-keys', { name: 'throwaway', role: 'viewer' }, A, [201])).id);
  const me = await api.call('GET', '/api/v1/me', undefined, { cookie: fx.session.cookie });
  if (me.status !== 200) fx.session.cookie = await login(api, fx.session.email, fx.session.password);
  fx.cursors = [];
  for (const p of ['/api/v1/contacts?limit=2', '/api/v1/campaigns?limit=1']) {
    const r = await api.call('GET', p, undefined, A);
    if (r.json?.nextCursor) fx.cursors.push(r.json.nextCursor);
  }
  const sent = fx.campaigns.find((id) => ['sent', 'partial', 'failed'].includes(statuses.get(id) ?? ''));
  if (sent) {
    const r = await api.call('GET', `/api/v1/campaigns/${sent}/recipients?limit=2`, undefined, A);
    if (r.json?.nextCursor) fx.cursors.push(r.json.nextCursor);
  }
}

// ---------------------------------------------------------------- routes from the live OpenAPI document

interface Target {
  method: string;
  url: string;
  role: string;
  body?: JsonSchema;
  contentType?: string;
  query: { name: string; schema: JsonSchema }[];
  kind: 'api' | 'webhook' | 'ws' | 'other';
}

async function loadTargets(api: Api): Promise<Target[]> {
  const doc = await must(api, 'GET', '/api/v1/openapi.json', undefined, null, [200]);
  const targets: Target[] = [];
  for (const [url, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(ops)) {
      const content = op.requestBody?.content as Record<string, { schema: JsonSchema }> | undefined;
      const contentType = content ? Object.keys(content)[0] : undefined;
      targets.push({
        method: method.toUpperCase(), url, role: op['x-required-role'] ?? 'public',
        body: contentType === 'application/json' ? content![contentType].schema : undefined,
        contentType,
        query: (op.parameters as { name: string; in: string; schema: JsonSchema }[]).filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema })),
        kind: url.startsWith('/webhooks/') ? 'webhook' : url === '/api/v1/ws' ? 'ws' : 'api',
      });
    }
  }
  // Webhooks are the one public write surface: their POST gets three more turns per round.
  const hook = targets.find((t) => t.kind === 'webhook' && t.method === 'POST');
  if (hook) targets.push(hook, hook, hook);
  // Not in the OpenAPI document, served all the same.
  for (const [method, url] of [['GET', '/metrics'], ['GET', '/'], ['GET', '/campaigns/{id}'], ['GET', '/api/v1/{id}'], ['POST', '/api/v1/{id}'], ['GET', '/webhooks']] as const) {
    targets.push({ method, url, role: 'public', query: [], kind: 'other' });
  }
  return targets;
}

// ---------------------------------------------------------------- building requests

interface Req {
  category: string;
  label: string;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  /** Raw bytes on a fresh socket instead of node:http. */
  raw?: { bytes: Buffer; halfClose?: boolean; expect?: number; allowNoAnswer?: boolean };
  /** Pool ids this request names, to drop them from the pools once they are gone. */
  ids: { pool: string[]; id: string }[];
  /** What a 201 adds to: a pool for the new id. */
  onCreated?: (json: any) => void;
  /** Called on a 2xx answer with the JSON that was sent (the session's password may have changed). */
  onOk?: (sent: any) => void;
  /** Sent this many times at once (a double submit), with `alongside` racing them. */
  burst?: number;
  alongside?: Req[];
}

/** A pool's random member; pools may empty out between replenishments. */
const some = (rng: Rng, pool: string[]) => (pool.length ? rng.pick(pool) : `gone-${rng.hex(8)}`);

const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80'; // a lone surrogate has no UTF-8 form: its CESU-8 bytes instead
  }
};

function hints(fx: Fixtures): ValidHints {
  return {
    forName(name, rng) {
      switch (name) {
        case 'channelId': return rng.chance(0.9) ? fx.primaryChannel : some(rng, fx.spareChannels);
        case 'providerUserId': return `fz-${rng.hex(8)}`;
        case 'email': return `fuzz-${rng.hex(8)}@example.com`;
        case 'password': case 'newPassword': case 'currentPassword': return fx.session.password;
        case 'apiBaseUrl': return DEAD_URL;
        case 'url': return 'https://example.com/a.png';
        case 'language': return 'en';
        case 'tags': return rng.pick(fx.tags);
        case 'text': return rng.pick(['Hello {{name|there}}', 'Hi', 'Sale in {{city|town}}']);
        case 'provider': return rng.chance(0.8) ? 'simulator' : undefined;
        case 'latencyMs': return rng.int(5);
        case 'failureRate': return rng.pick([0, 0.1, 0.3]);
        case 'timeoutMs': return 1000;
        case 'rateLimitPerSecond': return rng.pick([100, 1000, 2000]);
        case 'authExpired': return false;
        case 'concurrency': return rng.range(1, 8);
        case 'autoPauseThreshold': return rng.range(1, 20);
        case 'onlyRetryable': return rng.chance(0.5);
        default: return undefined;
      }
    },
  };
}

function authFor(fx: Fixtures, target: Target, rng: Rng): Record<string, string> {
  if (target.url === '/api/v1/me/password' || rng.chance(0.1)) return authHeaders({ cookie: fx.session.cookie });
  return authHeaders({ key: target.role === 'viewer' && rng.chance(0.3) ? fx.viewer : target.role === 'operator' && rng.chance(0.3) ? fx.operator : fx.admin });
}

/** The pool a path parameter's valid value comes from, for this method. */
function poolFor(fx: Fixtures, url: string, method: string): string[] {
  if (url.startsWith('/api/v1/channels/')) return method === 'GET' || url.endsWith('/test') ? [fx.primaryChannel, ...fx.spareChannels, ...Object.values(fx.hookChannels)] : fx.spareChannels;
  if (url.startsWith('/api/v1/contacts/')) return fx.contacts;
  if (url.startsWith('/api/v1/campaigns/')) return fx.campaigns;
  if (url.startsWith('/api/v1/users/')) return fx.users;
  if (url.startsWith('/api/v1/api-keys/')) return fx.keys;
  if (url.startsWith('/webhooks/')) return Object.values(fx.hookChannels);
  return fx.campaigns;
}

function hostileSegment(fx: Fixtures, rng: Rng): string {
  return rng.weighted<() => string>([
    [4, () => enc(hostileString(rng))],
    [3, () => rng.pick(['%2F', '..%2F..%2Fetc%2Fpasswd', '%00', '%', '%zz', '%ff', '%C0%AF', '%ED%A0%80', '.', '..', '%2e%2e', 'a%2Fb', '%252F', ';x=1', '%3Bx', '-1', '0', '1e999', 'null', 'undefined', '__proto__', 'constructor'])],
    [2, () => 'x'.repeat(rng.pick([101, 1000, 10_000, 20_000]))],
    [2, () => rng.pick([...fx.contacts, ...fx.campaigns, fx.primaryChannel, ...fx.users, ...fx.keys])],
    [1, () => `${some(rng, fx.campaigns)}${rng.pick(['/', '%20', '.csv', '%00', '/..', '//'])}`],
    [1, () => some(rng, fx.campaigns).toUpperCase()],
    [1, () => `00000000-0000-7000-8000-${rng.hex(12)}`],
  ])();
}

function buildPath(fx: Fixtures, url: string, method: string, rng: Rng, hostile: boolean, ids: Req['ids']): string {
  return url.replace(/\{(\w+)\}/g, () => {
    if (hostile) return hostileSegment(fx, rng);
    const pool = poolFor(fx, url, method);
    const id = pool.length ? rng.pick(pool) : `missing-${rng.hex(8)}`;
    if (pool.length) ids.push({ pool, id });
    return id;
  });
}

function validQuery(fx: Fixtures, t: Target, rng: Rng): string {
  const parts: string[] = [];
  for (const q of t.query) {
    if (!rng.chance(0.4)) continue;
    const s = q.schema;
    let v: string;
    if (s.enum) v = String(rng.pick(s.enum));
    else if (q.name === 'limit') v = String(rng.range(1, 50));
    else if (q.name === 'cursor') v = fx.cursors.length ? rng.pick(fx.cursors) : '';
    else if (q.name === 'channelId') v = fx.primaryChannel;
    else if (q.name === 'tag') v = rng.pick(fx.tags);
    else if (q.name === 'errorClass') v = rng.pick(['invalid_recipient', 'transient']);
    else v = rng.pick(['Fuzz', 'u-1', 'é']);
    parts.push(`${q.name}=${enc(v)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');

function hostileQuery(fx: Fixtures, t: Target, rng: Rng): string {
  const name = t.query.length && rng.chance(0.8) ? rng.pick(t.query).name : rng.pick(['foo', 'token', '__proto__', 'constructor[prototype][x]', 'limit', 'status', 'cursor', '']);
  const special: Record<string, string[]> = {
    limit: ['-1', '0', '1e9', '1.5', 'NaN', 'Infinity', '', 'abc', '0x10', '1e2', '%205', '9'.repeat(400), '-0', '%EF%BC%99'],
    cursor: ['AAAA', 'garbage!', '%00', 'x'.repeat(600), b64('99999999999999999999999'), b64('-1'), b64('1e5'), b64('0'), b64(fx.campaigns[0] ?? 'none'), b64("' OR 1=1 --"), b64('\u0000'), enc(randomBytes(24).toString('base64')), b64(rng.hex(64))],
    status: ['unknown', 'DRAFT', '', 'draft,sent', 'sent%00', 'constructor'],
  };
  return '?' + rng.weighted<() => string>([
    [5, () => `${name}=${special[name] ? rng.pick(special[name]) : enc(hostileString(rng))}`],
    [2, () => `${name}=a&${name}=b`],
    [1, () => `${name}[]=a&${name}[$ne]=x`],
    [1, () => `${name}=${'x'.repeat(rng.pick([1000, 8000]))}`],
    [1, () => rng.pick(['&&&=&', '%zz=%zz', '=', '&', 'a=b;c=d', `${name}`, `${name}=%`, `${name}=%ff%fe`, '%00=%00'])],
    [1, () => `${validQuery(fx, t, rng).slice(1)}&unknown=1`],
  ])();
}

function hostileAuth(fx: Fixtures, rng: Rng): { headers: Record<string, string | string[]>; label: string } {
  const picks: [number, () => [Record<string, string | string[]>, string]][] = [
    [2, () => [{}, 'no credentials']],
    [1, () => [{ authorization: 'Bearer' }, 'Bearer without key']],
    [1, () => [{ authorization: `Bearer ${rng.hex(40)}` }, 'unknown key']],
    [1, () => [{ authorization: `bearer   ${fx.admin}   ` }, 'odd spacing']],
    [1, () => [{ authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }, 'Basic']],
    [1, () => [{ authorization: `Bearer ${'k'.repeat(8000)}` }, '8 KB key']],
    [1, () => [{ authorization: `Bearer ${fx.admin} extra` }, 'key plus junk']],
    [1, () => [{ authorization: 'Bearer h\u00e9llo\u00ff' }, 'latin-1 key']],
    [1, () => [{ authorization: [`Bearer ${fx.viewer}`, `Bearer ${fx.admin}`] }, 'two Authorization headers']],
    [1, () => [{ authorization: `Bearer ${enc("' OR 1=1 --")}` }, 'injection key']],
    [2, () => [{ cookie: `herald_session=${rng.pick(['garbage', '', 'x'.repeat(4000), fx.session.cookie + 'x', "' OR 1=1 --"])}` }, 'bad session cookie']],
    [2, () => [{ cookie: `herald_session=${fx.session.cookie}` }, 'session without CSRF header']],
    [1, () => [{ cookie: `herald_session=${fx.session.cookie}`, 'x-herald-csrf': rng.pick(['0', 'true', '', '1 ']) }, 'session with a wrong CSRF header']],
    [1, () => [{ cookie: `herald_session=${fx.session.cookie}`, origin: rng.pick(['null', 'http://evil.example', 'not a url', 'http://127.0.0.1', '%']) }, 'session with a foreign Origin']],
    [1, () => [{ cookie: Array.from({ length: 50 }, (_, i) => `herald_session=${i}`).join('; ') }, '50 session cookies']],
    [2, () => [{ authorization: `Bearer ${fx.viewer}` }, 'viewer key']],
    [1, () => [{ authorization: `Bearer ${fx.operator}` }, 'operator key']],
  ];
  const [headers, label] = rng.weighted(picks)();
  return { headers, label };
}

const CONTENT_TYPES = [
  'text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data', 'multipart/form-data; boundary=x', '', 'application/json; charset=iso-8859-1',
  'APPLICATION/JSON', 'application/json;;;', 'application/*', '*/*', 'text/csv', 'application/vnd.api+json', 'application/json; charset=utf-16', 'json', 'application/json\u00e9',
];
const MALFORMED_JSON = ['{"name": ', '{name: "x"}', "{'a': 1}", '{"a":1,}', '[', ']', '{"a":1}}', '\ufeff{"a":1}', '{"a":1} trailing', '/*c*/{}', '{"a":"\\x41"}', '{"a":"\\u12"}', '{"a":01}', '\u0000', '', '   ', '{"a":"\u0001"}', '{"a":"line\nbreak"}'];

function validCsv(fx: Fixtures, rng: Rng): string {
  const rows = Array.from({ length: rng.range(1, 5) }, (_, i) => `Csv ${i},${fx.primaryChannel},csv-${rng.hex(6)},vip;news`);
  return `name,channel_id,provider_user_id,tags\n${rows.join('\n')}\n`;
}

function hostileCsv(fx: Fixtures, rng: Rng): Buffer {
  const header = 'name,channel_id,provider_user_id,tags';
  const ch = fx.primaryChannel;
  return rng.weighted<() => Buffer>([
    [2, () => Buffer.from(`${header}\n${hostileString(rng).replace(/\n/g, ' ')},${ch},csv-${rng.hex(4)},${hostileString(rng).replace(/[\n,]/g, ' ')}\n`)],
    [1, () => Buffer.from(`${header}\n"unclosed,${ch},x,y\n`)],
    [1, () => Buffer.from(`${header}\na,b\n1,2,3,4,5,6\n`)],
    [1, () => Buffer.from(`${header}\nnul\u0000,${ch},nul-${rng.hex(4)},t\n`)],
    [1, () => Buffer.concat([Buffer.from(`${header}\nbad,${ch},bad-`), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(',t\n')])],
    [1, () => Buffer.from('\ufeff' + validCsv(fx, rng))],
    [1, () => Buffer.from(`${header}\n${'x'.repeat(MB1 + 100)},${ch},big,t\n`)],
    [1, () => Buffer.from(`${header}\n${Array.from({ length: 5000 }, (_, i) => `n${i},${ch},many-${i % 50},t`).join('\n')}\n`)],
    [1, () => Buffer.from(rng.pick(['', '\n\n\n', 'name\n', 'foo,bar\n1,2\n', `${header}`, `${header}\r${'a'},${ch},cr,t\r`, `"${'"'.repeat(1001)}`]))],
    [1, () => Buffer.from(`${header}\n" OR 1=1 --,${ch},'; DROP TABLE contacts; --,<script>\n`)],
    [1, () => Buffer.from(`${header}\nx,${"' OR '1'='1"},y,z\nx,${some(rng, fx.campaigns)},y,z\n`)],
  ])();
}

// ---------------------------------------------------------------- webhook payloads

function webhookPayload(fx: Fixtures, p: HookProvider, rng: Rng): unknown {
  const user = rng.pick(fx.providerUsers[p]);
  const n = rng.int(1_000_000);
  const now = Math.floor(Date.now() / 1000);
  const sentId = (made: string) => (fx.messageIds[p].length && rng.chance(0.7) ? rng.pick(fx.messageIds[p]) : made);
  switch (p) {
    case 'whatsapp':
      return {
        object: 'whatsapp_business_account',
        entry: [{ id: 'WABA', changes: [{ field: 'messages', value: rng.chance(0.5)
          ? { messaging_product: 'whatsapp', metadata: { phone_number_id: HOOK_CREDENTIALS.whatsapp.phoneNumberId }, contacts: [{ profile: { name: 'Wa User' }, wa_id: user }], messages: [{ from: user, id: `wamid.${n}`, timestamp: String(now), type: 'text', text: { body: 'hi' } }] }
          : { messaging_product: 'whatsapp', statuses: [{ id: sentId(`wamid.${n}`), status: rng.pick(['delivered', 'read', 'failed', 'sent']), timestamp: String(now), recipient_id: user, errors: [{ code: 131026, title: 'undeliverable', error_data: { details: 'x' } }] }] } }] }],
      };
    case 'line':
      return { destination: 'Ufuzz', events: [{ type: rng.pick(['follow', 'unfollow', 'message', 'postback']), mode: 'active', timestamp: Date.now(), webhookEventId: `01FUZZ${n}`, source: { type: 'user', userId: user }, follow: { isUnblocked: rng.chance(0.5) } }] };
    case 'telegram':
      return rng.chance(0.5)
        ? { update_id: n, message: { message_id: n, from: { id: Number(user), is_bot: false, first_name: 'Tg' }, chat: { id: Number(user), type: 'private', first_name: 'Tg' }, date: now, text: '/start' } }
        : { update_id: n, my_chat_member: { chat: { id: Number(user), type: 'private' }, date: now, old_chat_member: { status: rng.pick(['member', 'kicked']) }, new_chat_member: { status: rng.pick(['member', 'kicked', 'left']) } } };
    case 'messenger': {
      const pageId = HOOK_CREDENTIALS.messenger.pageId;
      const m = rng.pick([
        { message: { mid: `m_${n}`, text: 'hi' } },
        { delivery: { mids: [sentId(`m_${n}`)], watermark: Date.now() } },
        { read: { watermark: Date.now() } },
        { optin: { type: 'notification_messages', notification_messages_status: rng.pick(['STOP_NOTIFICATIONS', 'RESUME_NOTIFICATIONS']) } },
        { postback: { mid: `p_${n}`, payload: 'x' } },
      ]);
      return { object: 'page', entry: [{ id: pageId, time: Date.now(), messaging: [{ sender: { id: user }, recipient: { id: pageId }, timestamp: Date.now(), ...m }] }] };
    }
    case 'twilio':
      return rng.chance(0.5)
        ? { AccountSid: HOOK_CREDENTIALS.twilio.accountSid, MessageSid: `SM${n}`, From: user, To: HOOK_CREDENTIALS.twilio.from, Body: rng.pick(['Hello', 'STOP', 'START', 'stop all']), SmsStatus: 'received' }
        : { AccountSid: HOOK_CREDENTIALS.twilio.accountSid, MessageSid: sentId(`SM${n}`), MessageStatus: rng.pick(['delivered', 'undelivered', 'failed', 'read', 'queued']), ErrorCode: rng.pick(['30003', '30004', '30007', '']), To: user };
  }
}

/** Every node of a value, as mutation targets (webhook payloads have no schema). */
function leavesOf(value: unknown, p: (string | number)[] = [], out: Leaf[] = []): Leaf[] {
  out.push({ path: p, schema: null });
  if (Array.isArray(value)) value.forEach((v, i) => leavesOf(v, [...p, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) leavesOf(v, [...p, k], out);
  return out;
}

function webhookRequest(fx: Fixtures, rng: Rng, method: string): Req {
  const ids: Req['ids'] = [];
  const provider = rng.pick(HOOK_PROVIDERS);
  const channel = rng.weighted<() => string>([
    [8, () => fx.hookChannels[provider]],
    [1, () => fx.primaryChannel],
    [2, () => hostileSegment(fx, rng)],
  ])();
  const p = `/webhooks/${channel}`;
  if (method === 'GET') {
    const creds = provider === 'whatsapp' || provider === 'messenger' ? HOOK_CREDENTIALS[provider] : HOOK_CREDENTIALS.whatsapp;
    const q = rng.weighted<() => string>([
      [3, () => `hub.mode=subscribe&hub.verify_token=${enc(creds.verifyToken)}&hub.challenge=${enc(rng.chance(0.5) ? String(rng.int(1e9)) : hostileString(rng))}`],
      [2, () => `hub.mode=${enc(hostileString(rng))}&hub.verify_token=${enc(hostileString(rng))}&hub.challenge=x`],
      [1, () => `hub.mode=subscribe&hub.mode=x&hub.verify_token=${enc(creds.verifyToken)}&hub.verify_token=y&hub.challenge=1&hub.challenge=2`],
      [1, () => `hub.challenge=${'c'.repeat(8000)}&hub.mode=subscribe&hub.verify_token=${enc(creds.verifyToken)}`],
      [1, () => hostileQuery(fx, { method, url: p, role: 'public', query: [], kind: 'webhook' }, rng).slice(1)],
    ])();
    return { category: 'webhook', label: `handshake ${provider}`, method, path: `${p}?${q}`, headers: {}, ids };
  }
  let payload: unknown = webhookPayload(fx, provider, rng);
  let label = `${provider} payload`;
  if (rng.chance(0.85)) {
    if (provider === 'twilio') {
      const params = payload as Record<string, unknown>;
      const key = rng.chance(0.8) ? rng.pick(Object.keys(params)) : rng.pick(['OptOutType', 'SmsSid', 'ErrorMessage', '__proto__', 'x'.repeat(1000)]);
      params[key] = rng.chance(0.8) ? hostileString(rng) : [hostileString(rng), hostileString(rng)];
      label = `twilio ${key} = ${describe(params[key])}`;
    } else {
      const m = mutateBody(payload, leavesOf(payload), rng);
      payload = m.body;
      label = `${provider} ${m.label}`;
    }
  }
  const headers: Record<string, string> = {};
  let body: Buffer;
  const sign = rng.weighted<string>([[15, 'good'], [2, 'bad'], [2, 'none'], [1, 'garbage']]);
  if (provider === 'twilio') {
    const form: FormParams = {};
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(payload as Record<string, unknown>)) {
      for (const one of [v].flat()) qs.append(k, typeof one === 'string' ? one : JSON.stringify(one) ?? '');
    }
    for (const [k, v] of qs) {
      const prev = form[k];
      form[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    body = Buffer.from(qs.toString());
    headers['content-type'] = 'application/x-www-form-urlencoded';
    if (sign === 'good') headers['x-twilio-signature'] = signTwilioRequest(HOOK_CREDENTIALS.twilio.authToken, PUBLIC_URL + p, form);
  } else {
    body = encodeJson(payload);
    headers['content-type'] = rng.chance(0.95) ? 'application/json' : rng.pick(CONTENT_TYPES);
    if (sign === 'good') {
      if (provider === 'line') headers['x-line-signature'] = signLineBody(HOOK_CREDENTIALS.line.channelSecret, body);
      if (provider === 'telegram') headers['x-telegram-bot-api-secret-token'] = HOOK_CREDENTIALS.telegram.webhookSecret;
      if (provider === 'whatsapp' || provider === 'messenger') headers['x-hub-signature-256'] = signMetaBody(HOOK_CREDENTIALS[provider].appSecret, body);
    }
  }
  if (sign === 'bad') Object.assign(headers, { 'x-line-signature': 'AAAA', 'x-hub-signature-256': 'sha256=00', 'x-telegram-bot-api-secret-token': 'wrong', 'x-twilio-signature': 'AAAA' });
  if (sign === 'garbage') Object.assign(headers, { 'x-line-signature': hostileString(rng).replace(/[^\x20-\x7e]/g, '?').slice(0, 8000), 'x-hub-signature-256': 'sha256=' + 'z'.repeat(5000) });
  return { category: 'webhook', label: `${label}, signature ${sign}`, method, path: p, headers, body, ids };
}

// ---------------------------------------------------------------- raw protocol violations

function rawVariant(fx: Fixtures, t: Target, rng: Rng, pathValid: string): Req {
  const auth = `Authorization: Bearer ${fx.admin}\r\n`;
  const body = Buffer.from('{"name":"raw","tags":["a"]}');
  const line = (m = t.method, p = pathValid) => `${m} ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}`;
  const choices: [number, () => [string, Buffer, Partial<NonNullable<Req['raw']>>]][] = [
    [2, () => ['Content-Length shorter than the body', Buffer.concat([Buffer.from(`${line()}Content-Type: application/json\r\nContent-Length: ${body.length - 5}\r\nConnection: close\r\n\r\n`), body]), { allowNoAnswer: false }]],
    [2, () => ['Content-Length longer than the body, then FIN', Buffer.concat([Buffer.from(`${line()}Content-Type: application/json\r\nContent-Length: ${body.length + 100}\r\n\r\n`), body]), { halfClose: true, allowNoAnswer: true }]],
    [1, () => ['Content-Length and chunked', Buffer.from(`${line()}Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n`), {}]],
    [1, () => ['bad chunk size', Buffer.from(`${line()}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`), {}]],
    [1, () => ['chunk longer than declared, then FIN', Buffer.from(`${line()}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nfffff\r\n{}`), { halfClose: true, allowNoAnswer: true }]],
    [1, () => ['two different Content-Lengths', Buffer.concat([Buffer.from(`${line()}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nContent-Length: 3\r\nConnection: close\r\n\r\n`), body]), {}]],
    [2, () => ['invalid UTF-8 bytes in the path', Buffer.concat([Buffer.from(`${t.method} ${pathValid.replace(/\/[^/]*$/, '/')}`), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(` HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`)]), {}]],
    [1, () => ['raw UTF-8 and spaces in the path', Buffer.from(`${t.method} ${pathValid}/é 😀 x HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`), {}]],
    [1, () => ['NUL in a header value', Buffer.from(`${line()}X-Test: a\u0000b\r\nConnection: close\r\n\r\n`), {}]],
    [1, () => ['bad header name', Buffer.from(`${line()}Bad Header: x\r\n:empty\r\nConnection: close\r\n\r\n`), {}]],
    [1, () => ['20 KB of headers', Buffer.from(`${line()}${Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'v'.repeat(50)}\r\n`).join('')}Connection: close\r\n\r\n`), {}]],
    [1, () => ['HTTP/1.0 without Host', Buffer.from(`${t.method} ${pathValid} HTTP/1.0\r\n${auth}\r\n`), {}]],
    [1, () => ['absolute-form URL', Buffer.from(`${t.method} http://evil.example${pathValid} HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Connection: close\r\n\r\n`), {}]],
    [2, () => ['three pipelined requests', Buffer.from(`GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n${line()}Content-Length: 0\r\n\r\nGET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), { expect: 3 }]],
    [1, () => ['garbage request line', Buffer.from(rng.pick(['FOO BAR BAZ\r\n\r\n', 'GET\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'get /api/v1/health http/1.1\r\n\r\n', `${'A'.repeat(20_000)} / HTTP/1.1\r\n\r\n`])), {}]],
    // Empty lines before a request line are allowed (RFC 9112 §2.2): the server rightly waits for the request.
    [1, () => ['only empty lines, then FIN', Buffer.from('\r\n\r\n\r\n'), { halfClose: true, allowNoAnswer: true }]],
    [1, () => ['Expect: 100-continue', Buffer.concat([Buffer.from(`${line()}Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]), {}]],
    [1, () => ['bad WebSocket upgrade', Buffer.from(`GET /api/v1/ws?token=${fx.admin} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: ${rng.pick(['13', '12', 'x'])}\r\nSec-WebSocket-Key: ${rng.pick(['short', '', 'dGhlIHNhbXBsZSBub25jZQ=='])}\r\n\r\n`), { halfClose: true, allowNoAnswer: true }]],
    [1, () => ['bad WebSocket subprotocol', Buffer.from(`GET /api/v1/ws?token=${fx.admin} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ${rng.pick(['a,,b', 'x y', 'a, a', '@'])}\r\n\r\n`), { halfClose: true, allowNoAnswer: true }]],
    [1, () => ['Upgrade on a plain route', Buffer.from(`${line('GET')}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${rng.pick(['dGhlIHNhbXBsZSBub25jZQ==', 'bad'])}\r\n\r\n`), { halfClose: true, allowNoAnswer: true }]],
  ];
  const [label, bytes, opts] = rng.weighted(choices)();
  return { category: 'raw', label, method: t.method, path: pathValid, headers: {}, raw: { bytes, ...opts }, ids: [] };
}

// ---------------------------------------------------------------- one variant per iteration

function buildRequest(fx: Fixtures, t: Target, rng: Rng): Req {
  if (t.kind === 'webhook') return webhookRequest(fx, rng, t.method);
  const ids: Req['ids'] = [];
  const h = hints(fx);
  const hasParams = t.url.includes('{');
  const category = rng.weighted<string>([
    [t.body ? 36 : 0, 'body'],
    [t.contentType === 'text/csv' ? 36 : 0, 'csv'],
    [12, 'encoding'],
    [hasParams ? 12 : 0, 'path'],
    [t.query.length ? 12 : 4, 'query'],
    [10, 'auth'],
    [8, 'valid'],
    [4, 'race'],
    [5, 'method'],
    [5, 'raw'],
  ]);
  const method = category === 'method' ? rng.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].filter((m) => m !== t.method)) : t.method;
  const pathOnly = buildPath(fx, t.url, method, rng, category === 'path', ids);
  const query = category === 'query' ? hostileQuery(fx, t, rng) : validQuery(fx, t, rng);
  let headers: Record<string, string | string[]> = authFor(fx, t, rng);
  let label = category;
  let body: Buffer | undefined;
  const leaves: Leaf[] = [];
  const validBody = () => (t.body ? validFor(t.body, rng, h, leaves) : undefined);
  if (t.contentType === 'text/csv') {
    body = category === 'csv' ? hostileCsv(fx, rng) : Buffer.from(validCsv(fx, rng));
    headers['content-type'] = 'text/csv';
  } else if (t.body) {
    let value = validBody();
    if (t.url === '/api/v1/auth/login' && value && typeof value === 'object' && rng.chance(0.5)) Object.assign(value, { email: fx.loginTarget.email });
    if (category === 'body') {
      const m = mutateBody(value, leaves, rng);
      value = m.body;
      label = `body: ${m.label}`;
    }
    if (value !== undefined) {
      body = encodeJson(value);
      headers['content-type'] = 'application/json';
    }
  }
  switch (category) {
    case 'encoding': {
      const kind = rng.weighted<string>([[4, 'malformed'], [2, 'utf8'], [3, 'ctype'], [1, 'utf16'], [1, 'empty'], [1, 'overlimit'], [1, 'deep'], [1, 'notjson']]);
      label = `encoding: ${kind}`;
      if (kind === 'malformed') body = Buffer.from(rng.pick(MALFORMED_JSON));
      if (kind === 'utf8') body = rng.chance(0.5) ? encodeJson({ name: rng.pick(INVALID_UTF8), text: rng.pick(INVALID_UTF8) }) : Buffer.concat([Buffer.from([0xff, 0xfe]), body ?? Buffer.from('{}'), Buffer.from([0xc3])]);
      if (kind === 'utf16') {
        body = Buffer.from(JSON.stringify(validBody() ?? {}), 'utf16le');
        headers['content-type'] = 'application/json; charset=utf-16';
      }
      if (kind === 'empty') body = Buffer.alloc(0);
      if (kind === 'overlimit') {
        const limit = t.url === '/api/v1/contacts' && t.method === 'POST' ? 16 * MB1 : MB1;
        body = Buffer.from(JSON.stringify({ name: 'x'.repeat(limit + 16) }));
      }
      if (kind === 'deep') body = deepJson(rng.pick([1000, 100_000, 500_000]), rng.pick(['array', 'object'] as const)).bytes;
      if (kind === 'notjson') body = rng.pick(NOT_JSON).bytes;
      if (kind === 'ctype') {
        body ??= Buffer.from('{}');
        const ct = rng.pick(CONTENT_TYPES);
        if (ct === '') delete headers['content-type'];
        else headers['content-type'] = ct;
        label += ` ${JSON.stringify(ct)}`;
      } else if (rng.chance(0.9)) {
        headers['content-type'] = t.contentType === 'text/csv' && rng.chance(0.5) ? 'text/csv' : 'application/json';
      } else {
        delete headers['content-type'];
      }
      break;
    }
    case 'auth': {
      const a = hostileAuth(fx, rng);
      const ct = headers['content-type'];
      headers = { ...a.headers, ...(ct ? { 'content-type': ct } : {}) };
      label = `auth: ${a.label}`;
      break;
    }
    case 'raw':
      return rawVariant(fx, t, rng, pathOnly + query);
    case 'path':
      label = `path: ${pathOnly.slice(0, 80)}`;
      break;
    case 'query':
      label = `query: ${query.slice(0, 80)}`;
      break;
    case 'method':
      label = `method ${method} on ${t.method} ${t.url}`;
      if (method === 'GET' || method === 'HEAD') body = undefined;
      break;
  }
  if (body === undefined) delete headers['content-type'];
  const req: Req = { category, label, method, path: pathOnly + query, headers, body, ids };
  if (category === 'race') {
    // The same request several times at once, and for one resource, its deletion racing them.
    req.burst = rng.range(2, 6);
    req.label = `race: ${req.burst} at once${hasParams ? ' with a DELETE' : ''}`;
    if (hasParams && method !== 'DELETE' && rng.chance(0.5)) req.alongside = [{ category, label: 'racing DELETE', method: 'DELETE', path: pathOnly, headers: authFor(fx, t, rng), ids: req.ids }];
  }
  if (t.url === '/api/v1/me/password' && method === 'POST') req.onOk = (sent) => { if (typeof sent?.newPassword === 'string') fx.session.password = sent.newPassword; };
  // Valid creations feed the pools, so later variants act on fresh objects too.
  if (method === 'POST' && t.method === 'POST') {
    if (t.url === '/api/v1/campaigns' || t.url.endsWith('/retry-failed')) req.onCreated = (j) => j?.id && cap(fx.campaigns, j.id, 30);
    if (t.url === '/api/v1/contacts') req.onCreated = (j) => j?.id && cap(fx.contacts, j.id, 200);
    if (t.url === '/api/v1/channels') req.onCreated = (j) => j?.id && j.provider === 'simulator' && cap(fx.spareChannels, j.id, 8);
    if (t.url === '/api/v1/users') req.onCreated = (j) => j?.id && cap(fx.users, j.id, 10);
    if (t.url === '/api/v1/api-keys') req.onCreated = (j) => j?.id && cap(fx.keys, j.id, 10);
  }
  return req;
}

// ---------------------------------------------------------------- every field, every wrong type

/** What each field gets in the sweep: every JSON type but its own, and the empty ones. */
const WRONG_TYPES: unknown[] = [null, true, 0, -1.5, '', 'x', [], [null], {}, { a: 1 }];

/**
 * Deterministic part of the run: for each route with a JSON body, a valid body with every optional
 * field present (four of them, so each alternative of a oneOf/anyOf is likely drawn), then that
 * body with one field at a time replaced by each wrong type, and removed.
 */
function typeSweep(fx: Fixtures, targets: Target[]): Req[] {
  const out: Req[] = [];
  const seen = new Set<string>();
  for (const t of targets) {
    if (!t.body || t.kind !== 'api') continue;
    for (let variant = 0; variant < 4; variant++) {
      const rng = new Rng(SEED * 31 + variant);
      const leaves: Leaf[] = [];
      const valid = validFor(t.body, rng, hints(fx), leaves, [], '', true);
      for (const leaf of leaves) {
        if (!leaf.path.length) continue;
        const key = `${t.method} ${t.url} ${leaf.path.join('.')}`;
        if (seen.has(key)) continue;
        seen.add(key);
        for (const wrong of [...WRONG_TYPES, undefined]) {
          const body = setAt(structuredClone(valid), leaf.path, wrong, wrong === undefined);
          const ids: Req['ids'] = [];
          const p = buildPath(fx, t.url, t.method, rng, false, ids);
          out.push({
            category: 'types', label: `${leaf.path.join('.')} = ${wrong === undefined ? '(removed)' : describe(wrong)}`, method: t.method, path: p,
            headers: { ...authFor(fx, t, rng), 'content-type': 'application/json' }, body: encodeJson(body), ids,
          });
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- sending and judging

const checksShape = (p: string) => p.startsWith('/api/') || p.startsWith('/webhooks/');

async function execute(api: Api, req: Req, iteration: number): Promise<void> {
  if (req.burst || req.alongside) {
    await Promise.all([...Array.from({ length: req.burst ?? 1 }, () => req), ...(req.alongside ?? [])].map((r) => executeOne(api, r, iteration)));
    return;
  }
  return executeOne(api, req, iteration);
}

async function executeOne(api: Api, req: Req, iteration: number): Promise<void> {
  const what = `#${iteration} ${req.category} · ${req.label}`;
  if (req.raw) {
    const res = await rawRequest(api.port, req.raw.bytes, { timeoutMs: TIMEOUT_MS, halfClose: req.raw.halfClose, expect: req.raw.expect });
    tally.requests++;
    const printable = `raw ${JSON.stringify(req.raw.bytes.subarray(0, 300).toString('latin1'))}`;
    if (res.timedOut) {
      tally.hangs++;
      tally.count('hang');
      tally.fail({ kind: 'hang', what, request: printable, detail: `no answer in ${TIMEOUT_MS} ms (${res.responses.length} complete)` });
      return;
    }
    if (res.responses.length === 0) {
      tally.count(req.raw.allowNoAnswer ? 'closed (allowed)' : 'closed');
      if (!req.raw.allowNoAnswer) {
        tally.resets++;
        tally.fail({ kind: 'no-answer', what, request: printable, detail: res.error ?? 'connection closed without an answer' });
      }
      return;
    }
    if (req.raw.expect && res.responses.length < req.raw.expect) {
      tally.resets++;
      tally.fail({ kind: 'no-answer', what, request: printable, detail: `${res.responses.length} of ${req.raw.expect} answers` });
    }
    for (const r of res.responses) {
      tally.count(String(r.status));
      if (r.status >= 500) {
        tally.status5xx++;
        tally.fail({ kind: '5xx', what, request: printable, detail: `${r.status} ${r.body.subarray(0, 300).toString('utf8')}` });
      }
      if (r.status >= 400 && r.status < 500 && checksShape(req.path)) {
        const bad = heraldErrorShape(r.body);
        if (bad) {
          tally.badErrorBodies++;
          tally.fail({ kind: 'bad-error-body', what, request: printable, detail: `${r.status} ${bad}` });
        }
      }
    }
    return;
  }
  const res = await httpRequest(api.agent, api.port, { method: req.method, path: req.path, headers: req.headers, body: req.body, timeoutMs: TIMEOUT_MS });
  const printable = describeRequest(req);
  tally.timing(res.ms, `#${iteration} ${printable.slice(0, 300)}`);
  if (res.error === 'client') {
    tally.notSent++;
    tally.count('not sent (client refused)');
    return;
  }
  tally.requests++;
  if (res.error === 'timeout') {
    tally.hangs++;
    tally.count('hang');
    tally.fail({ kind: 'hang', what, request: printable, detail: res.errorMessage ?? '' });
    return;
  }
  if (res.status === null || res.error) {
    // The server may refuse a body over its limit before reading it all; the answer still counts.
    tally.resets++;
    tally.count('reset');
    tally.fail({ kind: 'reset', what, request: printable, detail: `${res.status ?? '-'} ${res.errorMessage ?? ''}` });
    return;
  }
  tally.count(String(res.status));
  if (res.status >= 500) {
    tally.status5xx++;
    tally.fail({ kind: '5xx', what, request: printable, detail: `${res.status} ${res.body.subarray(0, 300).toString('utf8')}` });
  } else if (res.status >= 400 && checksShape(req.path) && req.method !== 'HEAD') {
    const bad = heraldErrorShape(res.body);
    if (bad) {
      tally.badErrorBodies++;
      tally.fail({ kind: 'bad-error-body', what, request: printable, detail: `${res.status} ${bad}` });
    }
  }
  if (res.status < 300 && req.onOk && req.body) {
    try {
      req.onOk(JSON.parse(req.body.toString('utf8')));
    } catch {
      /* a body that is not JSON changed nothing */
    }
  }
  if (res.status === 201 && req.onCreated) {
    try {
      req.onCreated(JSON.parse(res.body.toString('utf8')));
    } catch {
      /* a 201 without JSON is judged elsewhere */
    }
  }
  // Ids that are gone leave their pools.
  const gone = (req.method === 'DELETE' && res.status === 204) || (res.status === 404 && req.category !== 'path');
  if (gone) for (const { pool, id } of req.ids) {
    const i = pool.indexOf(id);
    if (i >= 0) pool.splice(i, 1);
  }
}

// ---------------------------------------------------------------- WebSocket

const ACKS = new Set(['subscribed', 'unsubscribed', 'error']);

async function wsVariant(api: Api, fx: Fixtures, rng: Rng, iteration: number): Promise<void> {
  const authKind = rng.weighted<string>([[6, 'query'], [2, 'header'], [1, 'viewer'], [1, 'bad'], [1, 'none'], [1, 'cookie'], [1, 'cookie-foreign']]);
  const base = `ws://127.0.0.1:${api.port}/api/v1/ws`;
  const url = authKind === 'query' ? `${base}?token=${fx.admin}` : authKind === 'viewer' ? `${base}?token=${fx.viewer}` : authKind === 'bad' ? `${base}?token=${enc(hostileString(rng)) || 'x'}` : base;
  const headers: Record<string, string> = authKind === 'header' ? { authorization: `Bearer ${fx.admin}` } : authKind.startsWith('cookie') ? { cookie: `herald_session=${fx.session.cookie}` } : {};
  const origin = authKind === 'cookie' ? `http://127.0.0.1:${api.port}` : authKind === 'cookie-foreign' ? 'http://evil.example' : undefined;
  const authorized = ['query', 'header', 'viewer', 'cookie'].includes(authKind);
  const what = `#${iteration} ws · auth ${authKind}`;
  const messages: { data: string | Buffer; binary?: boolean; label: string; closes?: number[] }[] = [];
  for (let i = 0; i < rng.range(1, 6); i++) {
    messages.push(rng.weighted<() => (typeof messages)[number]>([
      [3, () => ({ data: JSON.stringify({ type: 'subscribe', campaignId: some(rng, fx.campaigns) }), label: 'subscribe to a campaign' })],
      [1, () => ({ data: JSON.stringify({ type: 'subscribe', campaignId: '*' }), label: 'subscribe *' })],
      [3, () => ({ data: encodeJson({ type: rng.pick(['subscribe', 'unsubscribe']), campaignId: hostileValue(rng) }), label: 'hostile campaignId' })],
      [1, () => ({ data: encodeJson({ type: hostileValue(rng), campaignId: some(rng, fx.campaigns) }), label: 'hostile type' })],
      [1, () => ({ data: rng.pick(MALFORMED_JSON.filter(Boolean)), label: 'malformed JSON' })],
      [1, () => ({ data: randomBytes(rng.range(1, 200)), binary: true, label: 'binary garbage' })],
      [1, () => ({ data: Buffer.from(JSON.stringify({ type: 'subscribe', campaignId: some(rng, fx.campaigns) })), binary: true, label: 'binary JSON' })],
      [1, () => ({ data: deepJson(rng.pick([100, 10_000]), 'array').bytes.toString(), label: 'deeply nested' })],
      [1, () => ({ data: '{"type":"subscribe","campaignId":"' + 'x'.repeat(70 * 1024) + '"}', label: 'message over 64 KiB', closes: [1009] })],
      [1, () => ({ data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), binary: false, label: 'text frame with invalid UTF-8', closes: [1007] })],
    ])());
  }
  // The server closes on a message over its 64 KiB limit (1009) and on a text frame that is not UTF-8 (1007).
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (const m of messages) {
    const bytes = typeof m.data === 'string' ? Buffer.from(m.data) : m.data;
    if (bytes.length > 64 * 1024) m.closes = [1009];
    else if (!m.binary && typeof m.data !== 'string') {
      try {
        utf8.decode(bytes);
      } catch {
        m.closes = [1007];
      }
    }
  }
  tally.requests++;
  const result = await new Promise<{ ok: boolean; detail: string; status: string }>((resolve) => {
    const ws = new WebSocket(url, { headers, origin, handshakeTimeout: TIMEOUT_MS });
    let acks = 0;
    let sent = 0;
    let closedWith: number | null = null;
    let expectClose: number[] = [];
    let timer: NodeJS.Timeout | null = null;
    const finish = (r: { ok: boolean; detail: string; status: string }) => {
      if (timer) clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.terminate();
      resolve(r);
    };
    const overall = setTimeout(() => finish({ ok: false, detail: `no close or answers in ${TIMEOUT_MS} ms (acks ${acks}/${sent}, state ${ws.readyState})`, status: 'ws hang' }), TIMEOUT_MS * 2);
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(overall);
      finish({ ok: (res.statusCode ?? 500) < 500, detail: `upgrade answered ${res.statusCode}`, status: `ws ${res.statusCode}` });
    });
    ws.on('error', (err) => {
      clearTimeout(overall);
      finish({ ok: false, detail: `socket error ${err.message}`, status: 'ws error' });
    });
    ws.on('close', (code) => {
      closedWith = code;
      clearTimeout(overall);
      if (!authorized) finish({ ok: code === 4401, detail: `closed ${code} (unauthorized expects 4401)`, status: `ws close ${code}` });
      else if (expectClose.includes(code)) finish({ ok: true, detail: `closed ${code} as expected`, status: `ws close ${code}` });
      else finish({ ok: acks >= sent, detail: `closed ${code} with acks ${acks}/${sent}`, status: `ws close ${code}` });
    });
    ws.on('message', (data) => {
      try {
        const m = JSON.parse(data.toString()) as { type?: string };
        if (ACKS.has(m.type ?? '')) acks++;
      } catch {
        /* every server message is JSON; a non-JSON one never counts as an answer */
      }
    });
    ws.on('open', () => {
      if (!authorized) return; // the server must close it (4401)
      for (const m of messages) {
        sent++;
        ws.send(m.data, { binary: m.binary ?? false });
        if (m.closes) {
          expectClose = m.closes;
          break;
        }
      }
      const started = Date.now();
      const poll = () => {
        if (closedWith !== null) return;
        if (acks >= sent && !expectClose.length) {
          clearTimeout(overall);
          ws.close(1000);
          finish({ ok: true, detail: '', status: 'ws ok' });
        } else if (Date.now() - started > TIMEOUT_MS) {
          clearTimeout(overall);
          finish({ ok: false, detail: `${acks} answers to ${sent} messages in ${TIMEOUT_MS} ms (${messages.map((x) => x.label).join(', ')})`, status: 'ws no answer' });
        } else {
          timer = setTimeout(poll, 20);
        }
      };
      poll();
    });
  });
  // The session may have ended since the last replenish (a fuzzed logout or password change): a
  // refusal of the cookie is a failure only while the same cookie still works over HTTP.
  if (!result.ok && authKind === 'cookie' && result.status === 'ws close 4401') {
    const me = await api.call('GET', '/api/v1/me', undefined, { cookie: fx.session.cookie }).catch(() => null);
    if (me?.status === 401) {
      result.ok = true;
      result.status = 'ws close 4401 (session ended)';
    }
  }
  tally.count(result.status);
  if (!result.ok) {
    if (result.status === 'ws hang' || result.status === 'ws no answer') tally.hangs++;
    tally.fail({ kind: 'websocket', what, request: `${url.replace(fx.admin, '<admin key>')} ${messages.map((m) => `${m.label}: ${(typeof m.data === 'string' ? m.data : m.data.toString('latin1')).slice(0, 120)}`).join(' ; ')}`, detail: result.detail });
  }
}

// ---------------------------------------------------------------- the run

async function main(): Promise<number> {
  const db = await prepareDatabase();
  const mocks: Partial<Record<HookProvider, MockHandle>> = {};
  for (const p of RECEIPT_PROVIDERS) mocks[p] = await startMock(p, { latencyMs: 0 });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-fuzz-'));
  const herald = await startHerald(dataDir, db.url, ADMIN_KEY, PUBLIC_URL);
  const api = makeApi(herald.port, { maxSockets: CONCURRENCY + 4, timeoutMs: TIMEOUT_MS });
  const deadline = setTimeout(() => {
    process.stderr.write(`fuzz: deadline of ${DEADLINE_S} s reached\n`);
    report('fuzz', { error: 'deadline', seconds: DEADLINE_S, requests: tally.requests, failures: tally.failures.length + 1 });
    herald.child.kill('SIGKILL');
    for (const m of Object.values(mocks)) m.close();
    rmSync(dataDir, { recursive: true, force: true });
    void db.cleanup().finally(() => process.exit(3));
    setTimeout(() => process.exit(3), 5000).unref();
  }, DEADLINE_S * 1000);
  deadline.unref();
  try {
    const fx = await createFixtures(api, Object.fromEntries(Object.entries(mocks).map(([p, m]) => [p, m.url])));
    const targets = await loadTargets(api);
    process.stderr.write(`fuzz: Herald pid ${herald.child.pid} on port ${herald.port} (${db.url ? 'postgres' : 'sqlite'}), ${targets.length} routes, ${ITERATIONS} variants, seed ${SEED}\n`);
    const fuzzStarted = Date.now();
    const sweep = typeSweep(fx, targets);
    for (let start = 0; start < sweep.length; start += 200) {
      let next = start;
      const end = Math.min(sweep.length, start + 200);
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < end) {
          const i = next++;
          await execute(api, sweep[i], -1 - i);
        }
      }));
      await replenish(api, fx).catch((err: Error) => tally.fail({ kind: 'replenish', what: 'fixtures between batches', request: '-', detail: err.message }));
    }
    process.stderr.write(`fuzz: every field with every wrong type: ${sweep.length} requests (${Math.round((Date.now() - fuzzStarted) / 1000)} s)\n`);
    const BATCH = 200;
    for (let start = 0; start < ITERATIONS; start += BATCH) {
      const end = Math.min(ITERATIONS, start + BATCH);
      let next = start;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < end) {
          const i = next++;
          const rng = Rng.forIteration(SEED, i);
          const t = targets[i % targets.length];
          const t0 = Date.now();
          let traced = `${t.method} ${t.url} ws`;
          if (t.kind === 'ws' && rng.chance(0.7)) await wsVariant(api, fx, rng, i);
          else {
            const req = buildRequest(fx, t, rng);
            traced = req.raw ? `raw ${req.label}: ${JSON.stringify(req.raw.bytes.subarray(0, 200).toString('latin1'))}` : describeRequest(req).slice(0, 300);
            await execute(api, req, i);
          }
          if (TRACE && i >= TRACE[0] && i <= TRACE[1]) process.stderr.write(`TRACE #${i} ${t0 - started} +${Date.now() - t0} ms ${traced}\n`);
        }
      }));
      if (herald.exited) break;
      await replenish(api, fx).catch((err: Error) => tally.fail({ kind: 'replenish', what: 'fixtures between batches', request: '-', detail: err.message }));
      if ((start / BATCH) % 5 === 4) process.stderr.write(`fuzz: ${end}/${ITERATIONS} (${Math.round((Date.now() - fuzzStarted) / 1000)} s, ${tally.failures.length} failures)\n`);
    }
    const fuzzSeconds = Math.round((Date.now() - fuzzStarted) / 100) / 10;

    const health = herald.exited ? null : await api.call('GET', '/api/v1/health').catch(() => null);
    const alive = !herald.exited && herald.child.exitCode === null;
    if (!alive) tally.fail({ kind: 'crash', what: 'Herald process', request: '-', detail: `exited: ${JSON.stringify(herald.exited)}` });
    if (health?.status !== 200) tally.fail({ kind: 'health', what: 'GET /api/v1/health after the run', request: 'GET /api/v1/health', detail: `${health?.status ?? 'no answer'}` });

    const iso = alive ? await runIsolationSweep({ api, cliKey: (ws) => cliKey(herald, ws), runId: randomBytes(3).toString('hex'), timeoutMs: TIMEOUT_MS }) : null;
    const errorLogs = herald.errorLogs.filter((l) => l.msg !== 'request failed'); // 500s are already counted as 5xx
    for (const l of errorLogs) tally.fail({ kind: 'server-error-log', what: l.msg, request: '-', detail: l.err ?? '' });

    const failures = tally.failures.length + (iso?.violations.length ?? 1);
    report('fuzz', {
      database: db.url ? 'postgres' : 'sqlite', seed: SEED, iterations: ITERATIONS, typeSweep: sweep.length, routes: new Set(targets.filter((t) => t.kind !== 'other').map((t) => `${t.method} ${t.url}`)).size, otherPaths: targets.filter((t) => t.kind === 'other').length, seconds: fuzzSeconds,
      requests: tally.requests, notSentByClient: tally.notSent, byStatus: Object.fromEntries(Object.entries(tally.byStatus).sort()), status5xx: tally.status5xx, hangs: tally.hangs,
      resets: tally.resets, badErrorBodies: tally.badErrorBodies, serverErrorLogs: herald.errorLogs.length, slowestMs: tally.slowestMs,
      healthAfter: health?.status ?? null, processAlive: alive, failures: tally.failures.length,
    });
    if (iso) {
      report('fuzz-isolation', { database: db.url ? 'postgres' : 'sqlite', checks: iso.checks, idRoutesChecked: iso.idRoutes, listsChecked: iso.lists, wsChecks: iso.wsChecks, violations: iso.violations.length, aUnchanged: iso.aUnchanged });
      for (const v of iso.violations.slice(0, VERBOSE ? undefined : 40)) process.stderr.write(`VIOLATION ${v}\n`);
    }
    const byKind: Record<string, number> = {};
    for (const f of tally.failures) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    for (const x of tally.slowest) process.stderr.write(`fuzz: slow answer ${x.ms} ms: ${x.what}\n`);
    if (tally.failures.length) process.stderr.write(`fuzz: failures by kind ${JSON.stringify(byKind)} (FUZZ_VERBOSE=1 prints all)\n`);
    process.stderr.write(`fuzz: total ${Math.round((Date.now() - started) / 1000)} s\n`);
    return failures === 0 ? 0 : 1;
  } finally {
    api.agent.destroy();
    for (const m of Object.values(mocks)) m.close();
    await herald.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await db.cleanup();
  }
}

main().then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`fuzz: ${err.stack ?? err.message}\n`);
  report('fuzz', { error: err.message });
  process.exit(2);
});
