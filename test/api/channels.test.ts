import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptJson } from '../../src/util/secrets.ts';
import { getAdapter } from '../../src/providers/registry.ts';
import { DIALECTS, startHerald, type TestHerald } from '../helpers/harness.ts';

const SECRET = 'sUp3r-s3cret-token-4f9a1c';
const future = (ms = 3_600_000) => new Date(Date.now() + ms).toISOString();

describe.each(DIALECTS)('channels API on %s', (dialect) => {
  let t: TestHerald;
  let viewerKey: string;
  let operatorKey: string;

  beforeAll(async () => {
    t = await startHerald(dialect);
    viewerKey = await t.keyFor('default', 'viewer');
    operatorKey = await t.keyFor('default', 'operator');
  });
  afterAll(() => t.close());

  const create = (body: Record<string, unknown> = {}, key?: string) =>
    t.api('POST', '/api/v1/channels', { name: 'Main sim', provider: 'simulator', credentials: { token: SECRET }, ...body }, key);

  const row = (id: string) => t.herald.ctx.db.k.selectFrom('channels').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  /** No response may carry the credentials, under any key name. */
  const expectNoCredentials = (res: { text: string; body: unknown }) => {
    expect(res.text).not.toContain(SECRET);
    expect(res.text).not.toContain('credentials');
  };

  it('creates a simulator channel with the documented shape and the provider default rate', async () => {
    const res = await create({ settings: { latencyMs: 5 } });
    expect(res.status).toBe(201);
    expectNoCredentials(res);
    const c = res.body;
    expect(typeof c.id).toBe('string');
    expect(c).toMatchObject({ name: 'Main sim', provider: 'simulator', settings: { latencyMs: 5 }, status: 'ok' });
    const simulatorDefault = getAdapter('simulator').defaultRatePerSecond;
    expect(simulatorDefault).toBeGreaterThan(0);
    expect(c.rateLimitPerSecond).toBe(simulatorDefault);
    expect(typeof c.webhookUrl).toBe('string');
    expect(c.webhookUrl.endsWith(`/webhooks/${c.id}`)).toBe(true);
    expect(() => new URL(c.webhookUrl)).not.toThrow();
    expect(c).not.toHaveProperty('credentials');
  });

  it('keeps an explicit rate and defaults settings to {}', async () => {
    const res = await t.api('POST', '/api/v1/channels', { name: 'Bare', provider: 'simulator', rateLimitPerSecond: 7.5 });
    expect(res.status).toBe(201);
    expect(res.body.rateLimitPerSecond).toBe(7.5);
    expect(res.body.settings).toEqual({});
    expect((await t.api('GET', `/api/v1/channels/${res.body.id}`)).body.rateLimitPerSecond).toBe(7.5);
  });

  it('encrypts credentials at rest and can decrypt them with the secret key', async () => {
    const res = await create({ credentials: { token: SECRET, nested: { also: 'here' } } });
    expect(res.status).toBe(201);
    const r = await row(res.body.id);
    expect(typeof r.credentials_enc).toBe('string');
    expect(r.credentials_enc).not.toContain(SECRET);
    expect(r.credentials_enc).not.toContain('token');
    expect(r.credentials_enc.startsWith('v1.')).toBe(true);
    expect(decryptJson(t.config.secretKey, r.credentials_enc)).toEqual({ token: SECRET, nested: { also: 'here' } });
    // The ciphertext is bound to the key: a different key cannot open it.
    expect(() => decryptJson(Buffer.alloc(32, 7), r.credentials_enc)).toThrow();
    // Two channels with the same credentials do not share a ciphertext (random IV).
    const again = await create({ credentials: { token: SECRET, nested: { also: 'here' } } });
    expect((await row(again.body.id)).credentials_enc).not.toBe(r.credentials_enc);
  });

  it('lists and gets channels without credentials', async () => {
    const created = await create({ name: 'Listed' });
    const list = await t.api('GET', '/api/v1/channels');
    expect(list.status).toBe(200);
    expectNoCredentials(list);
    expect(list.body.nextCursor).toBeNull();
    const found = list.body.items.find((c: { id: string }) => c.id === created.body.id);
    expect(found).toMatchObject({ id: created.body.id, name: 'Listed', provider: 'simulator', status: 'ok' });
    for (const item of list.body.items) expect(item).not.toHaveProperty('credentials');

    const one = await t.api('GET', `/api/v1/channels/${created.body.id}`);
    expect(one.status).toBe(200);
    expectNoCredentials(one);
    expect(one.body).toEqual(found);
    expect((await t.api('GET', '/api/v1/channels/00000000-0000-7000-8000-000000000000')).status).toBe(404);
  });

  it('patches name, rate, settings and credentials', async () => {
    const { body: c } = await create({ settings: { latencyMs: 1, failureRate: 0.5 } });
    const renamed = await t.api('PATCH', `/api/v1/channels/${c.id}`, { name: '  Renamed  ' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Renamed');
    expect(renamed.body.rateLimitPerSecond).toBe(c.rateLimitPerSecond);
    expect(renamed.body.settings).toEqual({ latencyMs: 1, failureRate: 0.5 });
    expectNoCredentials(renamed);

    const rate = await t.api('PATCH', `/api/v1/channels/${c.id}`, { rateLimitPerSecond: 42 });
    expect(rate.status).toBe(200);
    expect(rate.body.rateLimitPerSecond).toBe(42);
    expect(rate.body.name).toBe('Renamed');

    // Settings are replaced as a whole.
    const settings = await t.api('PATCH', `/api/v1/channels/${c.id}`, { settings: { latencyMs: 20 } });
    expect(settings.status).toBe(200);
    expect(settings.body.settings).toEqual({ latencyMs: 20 });

    const newSecret = 'rotated-secret-value-77';
    const creds = await t.api('PATCH', `/api/v1/channels/${c.id}`, { credentials: { token: newSecret } });
    expect(creds.status).toBe(200);
    expect(creds.text).not.toContain(newSecret);
    expect(creds.text).not.toContain('credentials');
    const r = await row(c.id);
    expect(r.credentials_enc).not.toContain(newSecret);
    expect(decryptJson(t.config.secretKey, r.credentials_enc)).toEqual({ token: newSecret });

    const after = await t.api('GET', `/api/v1/channels/${c.id}`);
    expect(after.body).toMatchObject({ name: 'Renamed', rateLimitPerSecond: 42, settings: { latencyMs: 20 } });
    expect(new Date(after.body.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(after.body.createdAt).getTime());

    expect((await t.api('PATCH', '/api/v1/channels/00000000-0000-7000-8000-000000000000', { name: 'x' })).status).toBe(404);
    const bad = await t.api('PATCH', `/api/v1/channels/${c.id}`, { provider: 'line' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
  });

  it('deletes a channel: 204, then 404 and gone from the list', async () => {
    const { body: c } = await create({ name: 'Doomed' });
    const del = await t.api('DELETE', `/api/v1/channels/${c.id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    const get = await t.api('GET', `/api/v1/channels/${c.id}`);
    expect(get.status).toBe(404);
    expect(get.body.error.code).toBe('not_found');
    expect((await t.api('DELETE', `/api/v1/channels/${c.id}`)).status).toBe(404);
    expect((await t.api('PATCH', `/api/v1/channels/${c.id}`, { name: 'zombie' })).status).toBe(404);
    const list = await t.api('GET', '/api/v1/channels');
    expect(list.body.items.map((x: { id: string }) => x.id)).not.toContain(c.id);
    // A campaign cannot be created on a deleted channel.
    const camp = await t.api('POST', '/api/v1/campaigns', { name: 'late', channelId: c.id, message: { type: 'text', text: 'hi' }, audience: { type: 'all' } });
    expect(camp.status).toBe(400);
    expect(camp.body.error.code).toBe('unknown_channel');
  });

  it('refuses to delete a channel while a campaign of it is scheduled (409 channel_in_use)', async () => {
    const { body: c } = await create({ name: 'Busy' });
    const camp = await t.api('POST', '/api/v1/campaigns', {
      name: 'Later', channelId: c.id, message: { type: 'text', text: 'hello' }, audience: { type: 'all' }, scheduledAt: future(),
    });
    expect(camp.status).toBe(201);
    expect(camp.body.status).toBe('scheduled');
    const del = await t.api('DELETE', `/api/v1/channels/${c.id}`);
    expect(del.status).toBe(409);
    expect(del.body.error.code).toBe('channel_in_use');
    expect(typeof del.body.error.message).toBe('string');
    expect((await t.api('GET', `/api/v1/channels/${c.id}`)).status).toBe(200);
    // Cancelling the schedule (back to draft) frees the channel.
    expect((await t.api('POST', `/api/v1/campaigns/${camp.body.id}/cancel`)).body.status).toBe('draft');
    expect((await t.api('DELETE', `/api/v1/channels/${c.id}`)).status).toBe(204);
  });

  describe('validation', () => {
    const cases: [string, Record<string, unknown>][] = [
      ['missing name', { name: undefined }],
      ['empty name', { name: '   ' }],
      ['name not a string', { name: 42 }],
      ['unknown provider', { provider: 'carrier-pigeon' }],
      ['missing provider', { provider: undefined }],
      ['negative rate', { rateLimitPerSecond: -5 }],
      ['zero rate', { rateLimitPerSecond: 0 }],
      ['rate as string', { rateLimitPerSecond: '10' }],
      ['settings.latencyMs as string', { settings: { latencyMs: 'slow' } }],
      ['settings.failureRate above 1', { settings: { failureRate: 2 } }],
      ['settings.authExpired as string', { settings: { authExpired: 'yes' } }],
      ['settings as array', { settings: [1, 2] }],
      ['settings as string', { settings: 'fast' }],
      ['credentials as string', { credentials: 'token' }],
      ['unknown top-level field', { colour: 'blue' }],
    ];
    it.each(cases)('400 validation_failed for %s', async (_label, patch) => {
      const body = JSON.parse(JSON.stringify({ name: 'V', provider: 'simulator', ...patch })) as Record<string, unknown>;
      const before = (await t.api('GET', '/api/v1/channels')).body.items.length;
      const res = await t.api('POST', '/api/v1/channels', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(typeof res.body.error.message).toBe('string');
      expect(res.body.error.message.length).toBeGreaterThan(0);
      expect((await t.api('GET', '/api/v1/channels')).body.items.length).toBe(before);
    });

    it('names the bad field in the details', async () => {
      const res = await t.api('POST', '/api/v1/channels', { name: 'V', provider: 'simulator', rateLimitPerSecond: -1 });
      expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'body.rateLimitPerSecond' })]));
    });
  });

  it('tests the connection: ok normally; channel_auth with authExpired, which marks the channel auth_failed', async () => {
    const { body: good } = await create({ name: 'Good' });
    const ok = await t.api('POST', `/api/v1/channels/${good.id}/test`);
    expect(ok.status).toBe(200);
    expect(ok.body.ok).toBe(true);
    expectNoCredentials(ok);
    expect((await t.api('GET', `/api/v1/channels/${good.id}`)).body.status).toBe('ok');

    const { body: bad } = await create({ name: 'Expired', settings: { authExpired: true } });
    expect(bad.status).toBe('ok');
    const failed = await t.api('POST', `/api/v1/channels/${bad.id}/test`);
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ ok: false, errorClass: 'channel_auth' });
    expect(typeof failed.body.message).toBe('string');
    const after = await t.api('GET', `/api/v1/channels/${bad.id}`);
    expect(after.body.status).toBe('auth_failed');
    expect(typeof after.body.statusMessage).toBe('string');

    // Fixing the settings and testing again clears the flag.
    await t.api('PATCH', `/api/v1/channels/${bad.id}`, { settings: { authExpired: false } });
    expect((await t.api('POST', `/api/v1/channels/${bad.id}/test`)).body.ok).toBe(true);
    const fixed = await t.api('GET', `/api/v1/channels/${bad.id}`);
    expect(fixed.body.status).toBe('ok');
    expect(fixed.body.statusMessage).toBeNull();

    expect((await t.api('POST', '/api/v1/channels/00000000-0000-7000-8000-000000000000/test')).status).toBe(404);
  });

  it('new credentials clear an auth_failed status', async () => {
    const { body: c } = await create({ name: 'Rotate', settings: { authExpired: true } });
    await t.api('POST', `/api/v1/channels/${c.id}/test`);
    expect((await t.api('GET', `/api/v1/channels/${c.id}`)).body.status).toBe('auth_failed');
    const patched = await t.api('PATCH', `/api/v1/channels/${c.id}`, { credentials: { token: 'fresh-token-123' } });
    expect(patched.body.status).toBe('ok');
  });

  describe('roles', () => {
    it('a viewer reads but cannot create, patch, delete or test', async () => {
      const { body: c } = await create({ name: 'Guarded' });
      const post = await create({}, viewerKey);
      expect(post.status).toBe(403);
      expect(post.body.error.code).toBe('forbidden');
      const patch = await t.api('PATCH', `/api/v1/channels/${c.id}`, { name: 'hacked' }, viewerKey);
      expect(patch.status).toBe(403);
      expect(patch.body.error.code).toBe('forbidden');
      const del = await t.api('DELETE', `/api/v1/channels/${c.id}`, undefined, viewerKey);
      expect(del.status).toBe(403);
      expect(del.body.error.code).toBe('forbidden');
      expect((await t.api('POST', `/api/v1/channels/${c.id}/test`, undefined, viewerKey)).status).toBe(403);

      const list = await t.api('GET', '/api/v1/channels', undefined, viewerKey);
      expect(list.status).toBe(200);
      expect(list.body.items.map((x: { id: string }) => x.id)).toContain(c.id);
      expectNoCredentials(list);
      const one = await t.api('GET', `/api/v1/channels/${c.id}`, undefined, viewerKey);
      expect(one.status).toBe(200);
      expect(one.body.name).toBe('Guarded');
    });

    it('an operator cannot create, patch or delete a channel but may test one', async () => {
      const { body: c } = await create({ name: 'Ops' });
      const post = await create({}, operatorKey);
      expect(post.status).toBe(403);
      expect(post.body.error.code).toBe('forbidden');
      expect((await t.api('PATCH', `/api/v1/channels/${c.id}`, { name: 'x' }, operatorKey)).status).toBe(403);
      expect((await t.api('DELETE', `/api/v1/channels/${c.id}`, undefined, operatorKey)).status).toBe(403);
      expect((await t.api('GET', `/api/v1/channels/${c.id}`, undefined, operatorKey)).body.name).toBe('Ops');
      const test = await t.api('POST', `/api/v1/channels/${c.id}/test`, undefined, operatorKey);
      expect(test.status).toBe(200);
      expect(test.body.ok).toBe(true);
    });
  });
});
