/**
 * The tenant-isolation sweep of `npm run bench:fuzz`. Workspaces A and B are created with the real
 * command line (`herald keys create --workspace`); A gets one of everything (channels, contacts,
 * tags, campaigns in every reachable status with recipients, a user, an API key, a session). Then
 * B (with its API key, and again with a B user's session cookie) calls every route that takes an
 * id with each of A's ids, every documented method plus PUT, with bodies that pass validation, so
 * only the workspace check can refuse them: each must be a 404 in Herald's error shape that shows
 * nothing of A. B's lists, filters and cursors must show none of A's objects, B's WebSocket must
 * refuse A's campaigns and carry none of A's events while A's campaign sends (A's own socket,
 * the control, must see them), ids of A inside B's bodies must not be accepted, and A must be
 * exactly as before (every object, list, recipient export, key and session).
 */
import WebSocket from 'ws';
import type { Api, Auth } from './fuzz-herald.ts';

export interface IsolationResult {
  checks: number;
  idRoutes: number;
  lists: number;
  wsChecks: number;
  violations: string[];
  aUnchanged: boolean;
}

interface Ids {
  channels: string[];
  contacts: string[];
  campaigns: string[];
  users: string[];
  keys: string[];
}

const MARK_A = 'IsoA-secret';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const future = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();

export async function runIsolationSweep(o: { api: Api; cliKey: (workspace: string) => string; runId: string; timeoutMs: number }): Promise<IsolationResult> {
  const { api } = o;
  const violations: string[] = [];
  let checks = 0;
  let lists = 0;
  let wsChecks = 0;
  const idRoutes = new Set<string>();

  const must = async (method: string, p: string, body: unknown, auth: Auth, want: number[]) => {
    const res = await api.call(method, p, body, auth);
    if (!want.includes(res.status)) throw new Error(`isolation fixture ${method} ${p}: ${res.status} ${res.text.slice(0, 300)}`);
    return res.json;
  };
  const login = async (email: string, password: string) => {
    const res = await api.call('POST', '/api/v1/auth/login', { email, password }, null, { 'x-herald-csrf': '1' });
    const cookie = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('herald_session='));
    if (res.status !== 200 || !cookie) throw new Error(`isolation login failed: ${res.status} ${res.text}`);
    return cookie.slice('herald_session='.length).split(';')[0];
  };
  const waitStatus = async (id: string, auth: Auth, statuses: string[]) => {
    for (let i = 0; i < 600; i++) {
      const c = await must('GET', `/api/v1/campaigns/${id}`, undefined, auth, [200]);
      if (statuses.includes(c.status)) return c;
      await sleep(50);
    }
    throw new Error(`campaign ${id} never reached ${statuses.join('/')}`);
  };

  // ------------------------------------------------------------ workspace A: one of everything
  const wsA = `fuzz-iso-a-${o.runId}`;
  const wsB = `fuzz-iso-b-${o.runId}`;
  const A: Auth = { key: o.cliKey(wsA) };
  const B: Auth = { key: o.cliKey(wsB) };
  const simA = (name: string, rate: number) => must('POST', '/api/v1/channels', { name: `${MARK_A} ${name}`, provider: 'simulator', rateLimitPerSecond: rate, settings: { latencyMs: 0 } }, A, [201]).then((c) => c.id as string);
  const fast = await simA('fast', 500);
  const slow = await simA('slow', 0.2);
  const live = await simA('live', 25);
  const line = (await must('POST', '/api/v1/channels', { name: `${MARK_A} line`, provider: 'line', credentials: { channelAccessToken: 't', channelSecret: 's' }, settings: { apiBaseUrl: 'http://127.0.0.1:9', timeoutMs: 500 } }, A, [201])).id as string;
  const members = (ch: string, n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({
    name: `${MARK_A} ${prefix} ${i}`, tags: ['iso-a-tag', `iso-a-${prefix}`], attributes: { secret: MARK_A }, identities: [{ channelId: ch, providerUserId: `${i % 4 === 0 ? 'fail-' : ''}${prefix}-${i}` }],
  }));
  const bulk = await must('POST', '/api/v1/contacts', { contacts: [...members(fast, 12, 'fast'), ...members(slow, 6, 'slow'), ...members(live, 60, 'live'), ...members(line, 2, 'line')] }, A, [200]);
  const contactIds: string[] = bulk.items.map((x: { id: string }) => x.id);
  const campaign = (name: string, channelId: string, extra: Record<string, unknown> = {}) => must('POST', '/api/v1/campaigns', {
    name: `${MARK_A} ${name}`, channelId, message: { type: 'text', text: `Hello {{name}} ${MARK_A}` }, audience: { type: 'tags', tags: ['iso-a-tag'] }, ...extra,
  }, A, [201]).then((c) => c.id as string);
  const sent = await campaign('sent', fast);
  await must('POST', `/api/v1/campaigns/${sent}/send`, undefined, A, [200]);
  await waitStatus(sent, A, ['sent', 'partial', 'failed']);
  const retry = (await must('POST', `/api/v1/campaigns/${sent}/retry-failed`, { onlyRetryable: false }, A, [201])).id as string;
  const draft = await campaign('draft', fast);
  const scheduled = await campaign('scheduled', fast, { scheduledAt: future(48) });
  const paused = await campaign('paused', slow);
  await must('POST', `/api/v1/campaigns/${paused}/send`, undefined, A, [200]);
  await must('POST', `/api/v1/campaigns/${paused}/pause`, undefined, A, [200]);
  const cancelled = await campaign('cancelled', slow);
  await must('POST', `/api/v1/campaigns/${cancelled}/send`, undefined, A, [200]);
  await must('POST', `/api/v1/campaigns/${cancelled}/cancel`, undefined, A, [200]);
  const liveCampaign = await campaign('live', live);
  const aKey = await must('POST', '/api/v1/api-keys', { name: `${MARK_A} key`, role: 'operator' }, A, [201]);
  const aUser = await must('POST', '/api/v1/users', { email: `iso-a-${o.runId}@example.com`, name: `${MARK_A} user`, role: 'admin', password: 'iso-a-password-1' }, A, [201]);
  const aCookie = await login(`iso-a-${o.runId}@example.com`, 'iso-a-password-1');
  const aKeys = (await must('GET', '/api/v1/api-keys', undefined, A, [200])).items.map((k: { id: string }) => k.id) as string[];
  const aWorkspace = await must('GET', '/api/v1/workspace', undefined, A, [200]);
  const ids: Ids = {
    channels: [fast, slow, live, line], contacts: contactIds.filter((_, i) => i % 8 === 0), campaigns: [sent, retry, draft, scheduled, paused, cancelled, liveCampaign],
    users: [aUser.id], keys: aKeys.includes(aKey.id) ? aKeys : [...aKeys, aKey.id],
  };
  const cursorA = (await must('GET', '/api/v1/campaigns?limit=1', undefined, A, [200])).nextCursor as string;
  const contactCursorA = (await must('GET', '/api/v1/contacts?limit=1', undefined, A, [200])).nextCursor as string;
  const recipientCursorA = (await must('GET', `/api/v1/campaigns/${sent}/recipients?limit=1`, undefined, A, [200])).nextCursor as string;
  const allA = [...ids.channels, ...contactIds, ...ids.campaigns, ...ids.users, ...ids.keys, aWorkspace.id];
  /** Anything of A in a text B received: an id, the marker in A's names, A's workspace name. */
  const leak = (text: string, sentByB = '') => {
    if (text.includes(MARK_A)) return MARK_A;
    if (text.includes(wsA)) return wsA;
    return allA.find((id) => text.includes(id) && !sentByB.includes(id)) ?? null;
  };

  // ------------------------------------------------------------ workspace B: a user, a channel, a contact, a campaign
  await must('POST', '/api/v1/users', { email: `iso-b-${o.runId}@example.com`, name: 'B admin', role: 'admin', password: 'iso-b-password-1' }, B, [201]);
  const bCookie = await login(`iso-b-${o.runId}@example.com`, 'iso-b-password-1');
  const bChannel = (await must('POST', '/api/v1/channels', { name: 'B sim', provider: 'simulator', settings: {} }, B, [201])).id as string;
  const bContact = (await must('POST', '/api/v1/contacts', { name: 'B contact', identities: [{ channelId: bChannel, providerUserId: 'b-1' }] }, B, [201])).id as string;
  const bCampaign = (await must('POST', '/api/v1/campaigns', { name: 'B campaign', channelId: bChannel, message: { type: 'text', text: 'hi' }, audience: { type: 'all' } }, B, [201])).id as string;
  const bIds = new Set([bChannel, bContact, bCampaign]);

  // ------------------------------------------------------------ A as it is (compared again at the end)
  const snapshot = async (): Promise<Map<string, string>> => {
    const snap = new Map<string, string>();
    const get = async (p: string, auth: Auth = A) => {
      const res = await api.call('GET', p, undefined, auth);
      snap.set(p, `${res.status} ${res.text}`);
    };
    for (const id of ids.channels) await get(`/api/v1/channels/${id}`);
    for (const id of contactIds) await get(`/api/v1/contacts/${id}`);
    for (const id of ids.campaigns) {
      for (const sub of ['', '/recipients?limit=1000', '/failures', '/audience-preview', '/recipients.csv']) await get(`/api/v1/campaigns/${id}${sub}`);
    }
    for (const p of ['/api/v1/channels', '/api/v1/contacts?limit=500', '/api/v1/campaigns?limit=200', '/api/v1/tags', '/api/v1/users', '/api/v1/api-keys', '/api/v1/workspace']) await get(p);
    await get('/api/v1/me', { cookie: aCookie });
    return snap;
  };

  // ------------------------------------------------------------ WebSocket: B never hears of A
  const connect = (url: string, headers: Record<string, string>, origin?: string) => new Promise<{ ws: WebSocket; messages: string[] }>((resolve, reject) => {
    const ws = new WebSocket(url, { headers, origin, handshakeTimeout: o.timeoutMs });
    const messages: string[] = [];
    ws.on('message', (d) => messages.push(d.toString()));
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('error', reject);
  });
  const base = `ws://127.0.0.1:${api.port}/api/v1/ws`;
  const bKey = (B as { key: string }).key;
  const bSockets = [
    { label: 'B key in ?token=', ...(await connect(`${base}?token=${bKey}`, {})) },
    { label: 'B key in Authorization', ...(await connect(base, { authorization: `Bearer ${bKey}` })) },
    { label: 'B session cookie', ...(await connect(base, { cookie: `herald_session=${bCookie}` }, `http://127.0.0.1:${api.port}`)) },
  ];
  const control = await connect(`${base}?token=${(A as { key: string }).key}`, {});
  control.ws.send(JSON.stringify({ type: 'subscribe', campaignId: liveCampaign }));
  for (const s of bSockets) {
    s.ws.send(JSON.stringify({ type: 'subscribe', campaignId: '*' }));
    for (const id of ids.campaigns) s.ws.send(JSON.stringify({ type: 'subscribe', campaignId: id }));
  }
  await sleep(300);
  await must('POST', `/api/v1/campaigns/${liveCampaign}/send`, undefined, A, [200]);
  await waitStatus(liveCampaign, A, ['sent', 'partial', 'failed']);
  await waitStatus(paused, A, ['paused']);
  await sleep(1500); // trailing progress events
  const controlEvents = control.messages.filter((m) => m.includes('"campaign.progress"') && m.includes(liveCampaign)).length;
  wsChecks++;
  if (controlEvents === 0) violations.push(`WebSocket control: A's own socket got no progress event of its campaign, so the B checks prove nothing (${control.messages.length} messages)`);
  for (const s of bSockets) {
    const notFound = s.messages.filter((m) => { try { const j = JSON.parse(m); return j.type === 'error' && j.code === 'not_found'; } catch { return false; } }).length;
    wsChecks += ids.campaigns.length + 1;
    if (notFound !== ids.campaigns.length) violations.push(`WebSocket ${s.label}: ${notFound} not_found answers to ${ids.campaigns.length} subscriptions to A's campaigns`);
    for (const m of s.messages) {
      // B's own subscription requests named A's campaign ids: an answer may echo them, nothing more.
      const l = leak(m, ids.campaigns.join(' '));
      let foreign = false;
      try {
        const j = JSON.parse(m);
        foreign = j.type === 'campaign.progress' && !bIds.has(j.campaignId);
      } catch { /* non-JSON is reported through the leak check if it names A */ }
      if (l || foreign) violations.push(`WebSocket ${s.label}: B received ${m.slice(0, 200)}${l ? ` (names ${l})` : ''}`);
    }
    s.ws.close();
  }
  control.ws.close();

  const before = await snapshot();

  // ------------------------------------------------------------ every id route, every method, with B's credentials
  const doc = await must('GET', '/api/v1/openapi.json', undefined, null, [200]);
  const pathsWithId = Object.entries(doc.paths as Record<string, Record<string, unknown>>).filter(([p]) => p.includes('{') && !p.startsWith('/webhooks/'));
  const bodyFor = (method: string, url: string): unknown => {
    if (method === 'PATCH' && url.startsWith('/api/v1/channels/')) return { name: 'stolen', rateLimitPerSecond: 1, settings: { latencyMs: 1 } };
    if (method === 'PATCH' && url.startsWith('/api/v1/contacts/')) return { name: 'stolen', tags: ['stolen'], attributes: { stolen: true }, identities: [{ channelId: bChannel, providerUserId: 'stolen' }] };
    if (method === 'PATCH' && url.startsWith('/api/v1/campaigns/')) return { name: 'stolen', scheduledAt: future(24) };
    if (method === 'PATCH' && url.startsWith('/api/v1/users/')) return { name: 'stolen', role: 'viewer', disabled: true, password: 'stolen-password-1' };
    if (url.endsWith('/schedule')) return { scheduledAt: future(24) };
    if (url.endsWith('/retry-failed')) return { onlyRetryable: false };
    if (method === 'PUT') return { name: 'stolen' };
    return undefined;
  };
  const idsFor = (url: string): string[] => {
    if (url.startsWith('/api/v1/channels/')) return ids.channels;
    if (url.startsWith('/api/v1/contacts/')) return ids.contacts;
    if (url.startsWith('/api/v1/campaigns/')) return ids.campaigns;
    if (url.startsWith('/api/v1/users/')) return ids.users;
    if (url.startsWith('/api/v1/api-keys/')) return ids.keys;
    return [];
  };
  const expect404 = async (who: string, auth: Auth, method: string, p: string, body: unknown) => {
    checks++;
    const res = await api.call(method, p, body, auth);
    let code: unknown = null;
    try { code = JSON.parse(res.text)?.error?.code; } catch { /* judged below */ }
    const l = leak(res.text, p);
    if (res.status !== 404 || code !== 'not_found' || l) {
      violations.push(`${who} ${method} ${p}${body ? ` ${JSON.stringify(body)}` : ''} → ${res.status} ${res.text.slice(0, 200)}${l ? ` (names ${l})` : ''}`);
    }
  };
  for (const [who, auth] of [['B key', B], ['B session', { cookie: bCookie } as Auth]] as const) {
    for (const [url, ops] of pathsWithId) {
      const methods = [...new Set([...Object.keys(ops).map((m) => m.toUpperCase()), 'PUT'])];
      for (const method of methods) {
        idRoutes.add(`${method} ${url}`);
        for (const id of idsFor(url)) {
          const p = url.replace(/\{\w+\}/, id);
          await expect404(who, auth, method, p, bodyFor(method, url));
          if (method === 'GET' && url.endsWith('/recipients')) await expect404(who, auth, method, `${p}?status=failed&cursor=${recipientCursorA}`, undefined);
          if (method === 'GET' && url.endsWith('/recipients.csv')) await expect404(who, auth, method, `${p}?status=sent`, undefined);
        }
      }
    }

    // Lists, filters and cursors: nothing of A.
    const listPaths = [
      '/api/v1/channels', '/api/v1/contacts?limit=500', `/api/v1/contacts?channelId=${fast}`, '/api/v1/contacts?tag=iso-a-tag', `/api/v1/contacts?q=${MARK_A}`, `/api/v1/contacts?cursor=${contactCursorA}`,
      '/api/v1/campaigns?limit=200', `/api/v1/campaigns?cursor=${cursorA}`, ...['draft', 'scheduled', 'sending', 'paused', 'sent', 'failed', 'partial', 'cancelled'].map((s) => `/api/v1/campaigns?status=${s}`),
      '/api/v1/tags', `/api/v1/tags?channelId=${fast}`, '/api/v1/users', '/api/v1/api-keys', '/api/v1/workspace', '/api/v1/me', '/api/v1/providers',
      `/api/v1/campaigns/${bCampaign}/recipients?cursor=${recipientCursorA}`,
    ];
    for (const p of listPaths) {
      checks++;
      lists++;
      const res = await api.call('GET', p, undefined, auth);
      const l = leak(res.text);
      if (res.status !== 200 || l) violations.push(`${who} GET ${p} → ${res.status} ${l ? `names ${l}: ` : ''}${res.text.slice(0, 200)}`);
    }

    // A's ids inside B's bodies are refused, and nothing of A is counted or shown beyond what B sent.
    const refused = async (method: string, p: string, body: unknown, okWhen: (status: number, json: any) => boolean, contentType?: string) => {
      checks++;
      const sentText = typeof body === 'string' ? body : JSON.stringify(body);
      const res = contentType ? await api.callRaw(method, p, Buffer.from(sentText), auth, contentType) : await api.call(method, p, body, auth);
      const l = leak(res.text, sentText);
      if (!okWhen(res.status, res.json) || l) violations.push(`${who} ${method} ${p} ${sentText.slice(0, 120)} → ${res.status} ${res.text.slice(0, 200)}${l ? ` (names ${l})` : ''}`);
    };
    for (const ch of ids.channels) {
      await refused('POST', '/api/v1/campaigns', { name: 'hijack', channelId: ch, message: { type: 'text', text: 'x' }, audience: { type: 'all' } }, (s, j) => s === 400 && j?.error?.code === 'unknown_channel');
      await refused('PATCH', `/api/v1/campaigns/${bCampaign}`, { channelId: ch }, (s, j) => s === 400 && j?.error?.code === 'unknown_channel');
      await refused('POST', '/api/v1/audience-preview', { channelId: ch, audience: { type: 'all' } }, (s, j) => s === 400 && j?.error?.code === 'unknown_channel');
      await refused('POST', '/api/v1/contacts', { name: 'hijack', identities: [{ channelId: ch, providerUserId: 'fast-1' }] }, (s) => s === 400);
      await refused('POST', '/api/v1/contacts', { contacts: [{ name: 'hijack', identities: [{ channelId: ch, providerUserId: 'fast-1' }] }] }, (s, j) => s === 200 && j.created === 0 && j.updated === 0 && j.rejected.length === 1);
      await refused('PATCH', `/api/v1/contacts/${bContact}`, { identities: [{ channelId: ch, providerUserId: 'fast-1' }] }, (s, j) => s === 400 && j?.error?.code === 'unknown_channel');
      await refused('POST', '/api/v1/contacts/import', `name,channel_id,provider_user_id,tags\nhijack,${ch},fast-1,x\n`, (s, j) => s === 200 && j.imported === 0 && j.updated === 0 && j.rejected === 1, 'text/csv');
    }
  }

  // ------------------------------------------------------------ A is exactly as before, its key and session still work
  const after = await snapshot();
  let aUnchanged = true;
  for (const [p, v] of before) {
    checks++;
    if (after.get(p) !== v) {
      aUnchanged = false;
      violations.push(`A changed: GET ${p}\n    before ${v.slice(0, 200)}\n    after  ${after.get(p)?.slice(0, 200)}`);
    }
  }
  return { checks, idRoutes: idRoutes.size, lists, wsChecks, violations, aUnchanged };
}
