import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DIALECTS, startHerald, type TestHerald } from '../helpers/harness.ts';

const CSRF = { 'x-herald-csrf': '1' };
const ADMIN = { email: 'Admin@Example.com', name: 'Ada Admin', password: 'correct horse battery' };

function cookieOf(res: { headers: Record<string, unknown> }): string {
  const raw = res.headers['set-cookie'];
  const line = Array.isArray(raw) ? raw[0] : String(raw);
  return line.split(';')[0];
}

describe.each(DIALECTS)('accounts API on %s', (dialect) => {
  let t: TestHerald;
  let admin: string;
  const as = (cookie: string, method: string, url: string, body?: unknown, extra: Record<string, string> = CSRF) => t.api(method, url, body, null, { cookie, ...extra });
  const login = async (email: string, password: string, ip?: string) => {
    const res = await t.herald.app!.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json', ...CSRF }, payload: JSON.stringify({ email, password }), ...(ip ? { remoteAddress: ip } : {}) });
    return { status: res.statusCode, body: res.json(), cookie: res.statusCode === 200 ? cookieOf(res) : '', headers: res.headers };
  };

  beforeAll(async () => {
    t = await startHerald(dialect);
  });
  afterAll(() => t.close());

  it('sets up the first admin once, then answers 409', async () => {
    expect((await t.api('GET', '/api/v1/setup', undefined, null)).body).toEqual({ needsSetup: true });
    expect((await t.api('POST', '/api/v1/setup', ADMIN, null)).status).toBe(403);
    expect((await t.api('POST', '/api/v1/setup', { ...ADMIN, password: 'short' }, null, CSRF)).status).toBe(400);
    const res = await t.api('POST', '/api/v1/setup', ADMIN, null, CSRF);
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({ email: 'admin@example.com', name: 'Ada Admin', role: 'admin', disabled: false });
    expect(res.body.user.password_hash).toBeUndefined();
    expect(res.body.workspace.name).toBe('default');
    expect((await t.api('GET', '/api/v1/setup', undefined, null)).body).toEqual({ needsSetup: false });
    const again = await t.api('POST', '/api/v1/setup', { ...ADMIN, email: 'other@example.com' }, null, CSRF);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
    const row = await t.herald.ctx.db.k.selectFrom('users').select('password_hash').executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$\d+\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(row.password_hash).not.toContain(ADMIN.password);
  });

  it('signs in with a secure session cookie; wrong passwords are a generic 401', async () => {
    const ok = await login('admin@example.com', ADMIN.password);
    expect(ok.status).toBe(200);
    expect(ok.body.user.email).toBe('admin@example.com');
    const flags = String(ok.headers['set-cookie']);
    expect(flags).toMatch(/^herald_session=[\w-]{43};/);
    expect(flags).toContain('HttpOnly');
    expect(flags).toContain('SameSite=Lax');
    expect(flags).toContain('Path=/');
    expect(Number(/Max-Age=(\d+)/.exec(flags)?.[1])).toBeGreaterThan(30 * 24 * 3600 - 5);
    expect(flags).not.toContain('Secure');
    admin = ok.cookie;
    const wrong = await login('admin@example.com', 'not the password');
    const unknown = await login('nobody@example.com', 'not the password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
    expect((await t.api('POST', '/api/v1/auth/login', { email: 'admin@example.com', password: ADMIN.password }, null)).status).toBe(403);
  });

  it('marks the cookie Secure when the public URL is https', async () => {
    const s = await startHerald(dialect, { worker: false, env: { HERALD_PUBLIC_URL: 'https://herald.example.com' } });
    try {
      await s.api('POST', '/api/v1/setup', ADMIN, null, CSRF);
      const res = await s.api('POST', '/api/v1/auth/login', { email: ADMIN.email, password: ADMIN.password }, null, CSRF);
      expect(String(res.headers['set-cookie'])).toContain('; Secure');
    } finally {
      await s.close();
    }
  });

  it('rate-limits repeated failures per IP and email', async () => {
    for (let i = 0; i < 5; i++) expect((await login('admin@example.com', 'guess ' + i, '10.9.9.9')).status).toBe(401);
    const blocked = await login('admin@example.com', ADMIN.password, '10.9.9.9');
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('too_many_requests');
    expect((await login('admin@example.com', ADMIN.password, '10.9.9.10')).status).toBe(200);
  });

  it('authenticates API routes with the session and requires the CSRF header on writes', async () => {
    const me = await as(admin, 'GET', '/api/v1/me', undefined, {});
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ role: 'admin', via: 'session', user: { email: 'admin@example.com' }, workspace: { name: 'default' } });
    expect((await as(admin, 'GET', '/api/v1/campaigns', undefined, {})).status).toBe(200);
    const body = { name: 'sim', provider: 'simulator', credentials: {}, rateLimitPerSecond: 10 };
    const noCsrf = await as(admin, 'POST', '/api/v1/channels', body, {});
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body.error.message).toContain('X-Herald-CSRF');
    expect((await as(admin, 'POST', '/api/v1/channels', body, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await as(admin, 'POST', '/api/v1/channels', body, { origin: 'http://herald.test:3999', host: 'herald.test:3999' })).status).toBe(201);
    expect((await as(admin, 'POST', '/api/v1/channels', body)).status).toBe(201);
    expect((await t.api('POST', '/api/v1/channels', body)).status).toBe(201);
    expect((await t.api('GET', '/api/v1/me', undefined, null, { cookie: 'herald_session=forged' })).status).toBe(401);
  });

  it('lets admins manage users; roles apply to sessions like keys', async () => {
    const invited = await as(admin, 'POST', '/api/v1/users', { email: 'viewer@example.com', name: 'Vic', role: 'viewer' });
    expect(invited.status).toBe(201);
    expect(invited.body).toMatchObject({ role: 'viewer', mustChangePassword: true });
    expect(invited.body.oneTimePassword).toMatch(/^\w{4}-\w{4}-\w{4}-\w{4}$/);
    expect((await as(admin, 'POST', '/api/v1/users', { email: 'VIEWER@example.com', name: 'Dup', role: 'viewer' })).status).toBe(409);
    const op = await as(admin, 'POST', '/api/v1/users', { email: 'op@example.com', name: 'Op', role: 'operator', password: 'operator password 1' });
    expect(op.body.oneTimePassword).toBeNull();

    const viewer = await login('viewer@example.com', invited.body.oneTimePassword);
    expect(viewer.status).toBe(200);
    expect((await as(viewer.cookie, 'GET', '/api/v1/campaigns', undefined, {})).status).toBe(200);
    const channel = (await t.api('GET', '/api/v1/channels')).body.items[0].id;
    const draft = await t.api('POST', '/api/v1/campaigns', { name: 'x', channelId: channel, message: { type: 'text', text: 'hi' }, audience: { type: 'all' } });
    const send = await as(viewer.cookie, 'POST', `/api/v1/campaigns/${draft.body.id}/send`);
    expect(send.status).toBe(403);
    expect(send.body.error.code).toBe('forbidden');
    expect((await as(viewer.cookie, 'GET', '/api/v1/users', undefined, {})).status).toBe(403);
    expect((await as(viewer.cookie, 'POST', '/api/v1/users', { email: 'x@example.com', name: 'X', role: 'admin' })).status).toBe(403);

    const operator = await login('op@example.com', 'operator password 1');
    expect((await as(operator.cookie, 'POST', '/api/v1/campaigns', { name: 'y', channelId: channel, message: { type: 'text', text: 'hi' }, audience: { type: 'all' } })).status).toBe(201);
    expect((await as(operator.cookie, 'POST', '/api/v1/channels', { name: 's', provider: 'simulator' })).status).toBe(403);
    expect((await as(operator.cookie, 'GET', '/api/v1/api-keys', undefined, {})).status).toBe(403);

    // A role change applies to the live session at once.
    const promoted = await as(admin, 'PATCH', `/api/v1/users/${invited.body.id}`, { role: 'operator' });
    expect(promoted.body.role).toBe('operator');
    expect((await as(viewer.cookie, 'GET', '/api/v1/me', undefined, {})).body.role).toBe('operator');
    // Disabling ends the sessions.
    await as(admin, 'PATCH', `/api/v1/users/${invited.body.id}`, { disabled: true });
    expect((await as(viewer.cookie, 'GET', '/api/v1/me', undefined, {})).status).toBe(401);
    expect((await login('viewer@example.com', invited.body.oneTimePassword)).status).toBe(401);

    const list = await as(admin, 'GET', '/api/v1/users', undefined, {});
    expect(list.body.items.map((u: any) => u.email)).toEqual(['admin@example.com', 'viewer@example.com', 'op@example.com']);
    const me = (await as(admin, 'GET', '/api/v1/me', undefined, {})).body.user;
    expect((await as(admin, 'DELETE', `/api/v1/users/${me.id}`)).status).toBe(409);
    expect((await as(admin, 'PATCH', `/api/v1/users/${me.id}`, { role: 'viewer' })).status).toBe(409);
    expect((await as(admin, 'DELETE', `/api/v1/users/${invited.body.id}`)).status).toBe(204);
    expect((await as(admin, 'DELETE', `/api/v1/users/${invited.body.id}`)).status).toBe(404);
    // Users of another workspace are invisible.
    const otherKey = await t.keyFor('other-ws');
    expect((await t.api('PATCH', `/api/v1/users/${op.body.id}`, { role: 'admin' }, otherKey)).status).toBe(404);
    expect((await t.api('GET', '/api/v1/users', undefined, otherKey)).body.items).toEqual([]);
  });

  it('changes the own password and signs out', async () => {
    const op = await login('op@example.com', 'operator password 1');
    expect((await as(op.cookie, 'POST', '/api/v1/me/password', { currentPassword: 'wrong password', newPassword: 'operator password 2' })).status).toBe(400);
    expect((await as(op.cookie, 'POST', '/api/v1/me/password', { currentPassword: 'operator password 1', newPassword: 'operator password 2' })).status).toBe(204);
    expect((await login('op@example.com', 'operator password 2')).status).toBe(200);
    const out = await as(op.cookie, 'POST', '/api/v1/auth/logout');
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await as(op.cookie, 'GET', '/api/v1/me', undefined, {})).status).toBe(401);
  });

  it('creates and revokes API keys; a revoked key is a 401', async () => {
    const created = await as(admin, 'POST', '/api/v1/api-keys', { name: 'ci', role: 'operator' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'ci', role: 'operator', revokedAt: null });
    expect(created.body.key).toMatch(/^hrld_/);
    expect(created.body.prefix).toBe(created.body.key.slice(0, 9));
    const listed = await as(admin, 'GET', '/api/v1/api-keys', undefined, {});
    expect(listed.body.items.find((k: any) => k.id === created.body.id)).toBeTruthy();
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
    expect((await t.api('GET', '/api/v1/me', undefined, created.body.key)).body).toMatchObject({ role: 'operator', via: 'api_key', user: null });
    expect((await t.api('GET', '/api/v1/api-keys', undefined, created.body.key)).status).toBe(403);
    expect((await as(admin, 'DELETE', `/api/v1/api-keys/${created.body.id}`)).status).toBe(204);
    expect((await t.api('GET', '/api/v1/campaigns', undefined, created.body.key)).status).toBe(401);
    expect((await as(admin, 'GET', '/api/v1/api-keys', undefined, {})).body.items.find((k: any) => k.id === created.body.id).revokedAt).not.toBeNull();
    expect((await as(admin, 'DELETE', '/api/v1/api-keys/nope')).status).toBe(404);
  });

  it('accepts the session cookie on the WebSocket only from the same origin', async () => {
    const address = await t.herald.app!.listen({ port: 0, host: '127.0.0.1' });
    const url = address.replace('http', 'ws') + '/api/v1/ws';
    const open = (origin: string) => new Promise<string>((resolve) => {
      const ws = new WebSocket(url, { headers: { cookie: admin, origin } });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', campaignId: '*' })));
      ws.on('message', (m) => { resolve(JSON.parse(String(m)).type); ws.close(); });
      ws.on('close', (code) => resolve(`closed ${code}`));
    });
    expect(await open(address)).toBe('subscribed');
    expect(await open('https://evil.example')).toBe('closed 4401');
  });
});
