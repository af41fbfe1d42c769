import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, addContacts, simulatorChannel, startHerald, waitFor, type TestHerald } from '../helpers/harness.ts';

const future = (ms = 3_600_000) => new Date(Date.now() + ms).toISOString();

describe.each(DIALECTS)('campaigns API on %s', (dialect) => {
  let t: TestHerald;
  let fast: string;
  let slow: string;

  beforeAll(async () => {
    t = await startHerald(dialect);
    fast = await simulatorChannel(t, {}, 1000);
    slow = await simulatorChannel(t, {}, 2);
    await addContacts(t, fast, [
      { id: 'u1', name: 'Ann', tags: ['vip'], attributes: { city: 'Tokyo' } },
      { id: 'u2', name: 'Bob', tags: ['news'] },
      { id: 'u3', name: 'Cy', tags: ['vip', 'news'] },
      { id: 'u4', name: '', tags: ['other'] },
      { id: 'fail-5', name: 'Dee', tags: ['bad'] },
    ]);
    await addContacts(t, slow, Array.from({ length: 30 }, (_, i) => ({ id: `s${i}`, tags: ['slow'] })));
  });
  afterAll(() => t.close());

  const create = (body: Record<string, unknown>) => t.api('POST', '/api/v1/campaigns', { name: 'C', channelId: fast, message: { type: 'text', text: 'Hi {{name|there}}' }, audience: { type: 'all' }, ...body });

  it('creates a draft with the documented shape', async () => {
    const res = await create({});
    expect(res.status).toBe(201);
    const c = res.body;
    expect(c).toMatchObject({ name: 'C', status: 'draft', channelId: fast, audience: { type: 'all' }, pauseReason: null, parentCampaignId: null, completionTimeMs: null });
    expect(c.stats).toEqual({ total: 0, sent: 0, failed: 0, skipped: 0, pending: 0, delivered: 0, read: 0 });
    expect(Object.keys(c.timeline).sort()).toEqual(['completedAt', 'createdAt', 'scheduledAt', 'startedAt']);
    expect((await t.api('GET', `/api/v1/campaigns/${c.id}`)).body.id).toBe(c.id);
  });

  it('creates a scheduled campaign when scheduledAt is in the future, refuses a past one', async () => {
    const at = future();
    const ok = await create({ scheduledAt: at });
    expect(ok.status).toBe(201);
    expect(ok.body.status).toBe('scheduled');
    expect(ok.body.timeline.scheduledAt).toBe(new Date(at).toISOString());
    const past = await create({ scheduledAt: new Date(Date.now() - 1000).toISOString() });
    expect(past.status).toBe(400);
    expect(past.body.error.code).toBe('schedule_in_past');
  });

  it('validates message, audience and channel', async () => {
    expect((await create({ message: { type: 'text', text: '' } })).status).toBe(400);
    const long = await create({ message: { type: 'text', text: 'x'.repeat(4097) } });
    expect(long.status).toBe(400);
    expect(long.body.error.code).toBe('content_invalid');
    expect((await create({ message: { type: 'image', url: 'ftp://x/y.png' } })).status).toBe(400);
    expect((await create({ message: { type: 'image', url: 'https://example.com/a.png', caption: 'Hello {{name}}' } })).status).toBe(201);
    expect((await create({ message: { type: 'template', template: { name: 'promo', language: 'en_US', components: [] } } })).status).toBe(201);
    expect((await create({ audience: { type: 'tags', tags: [] } })).status).toBe(400);
    expect((await create({ audience: { type: 'nobody' } })).status).toBe(400);
    const unknown = await create({ channelId: 'nope' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('unknown_channel');
  });

  it('previews the audience: all members, tags with OR logic, opted-out excluded, one per contact', async () => {
    const all = await create({});
    expect((await t.api('GET', `/api/v1/campaigns/${all.body.id}/audience-preview`)).body).toEqual({ count: 5 });
    const tags = await create({ audience: { type: 'tags', tags: ['vip', 'news'] } });
    expect((await t.api('GET', `/api/v1/campaigns/${tags.body.id}/audience-preview`)).body).toEqual({ count: 3 });
    // A second identity of Ann on the same channel does not make her two recipients.
    const ann = (await t.api('GET', `/api/v1/contacts?q=Ann`)).body.items[0];
    await t.api('PATCH', `/api/v1/contacts/${ann.id}`, { identities: [...ann.identities.map((i: any) => ({ channelId: i.channelId, providerUserId: i.providerUserId })), { channelId: fast, providerUserId: 'u1-alt' }] });
    expect((await t.api('GET', `/api/v1/campaigns/${all.body.id}/audience-preview`)).body).toEqual({ count: 5 });
    // Opting Bob out removes him.
    const bob = (await t.api('GET', `/api/v1/contacts?q=Bob`)).body.items[0];
    await t.api('PATCH', `/api/v1/contacts/${bob.id}`, { identities: [{ channelId: fast, providerUserId: 'u2', optedOut: true }] });
    expect((await t.api('GET', `/api/v1/campaigns/${tags.body.id}/audience-preview`)).body).toEqual({ count: 2 });
    await t.api('PATCH', `/api/v1/contacts/${bob.id}`, { identities: [{ channelId: fast, providerUserId: 'u2', optedOut: false }] });
    await t.api('PATCH', `/api/v1/contacts/${ann.id}`, { identities: [{ channelId: fast, providerUserId: 'u1' }] });
  });

  it('edits and deletes drafts only', async () => {
    const c = (await create({})).body;
    const edited = await t.api('PATCH', `/api/v1/campaigns/${c.id}`, { name: 'Renamed', audience: { type: 'tags', tags: ['vip'] } });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ name: 'Renamed', audience: { type: 'tags', tags: ['vip'] }, status: 'draft' });
    const toScheduled = await t.api('PATCH', `/api/v1/campaigns/${c.id}`, { scheduledAt: future() });
    expect(toScheduled.body.status).toBe('scheduled');
    const del = await t.api('DELETE', `/api/v1/campaigns/${c.id}`);
    expect(del.status).toBe(409);
    expect(del.body.error.code).toBe('invalid_status');
    expect(del.body.error.message).toContain('scheduled');
    await t.api('POST', `/api/v1/campaigns/${c.id}/cancel`);
    expect((await t.api('DELETE', `/api/v1/campaigns/${c.id}`)).status).toBe(204);
    expect((await t.api('GET', `/api/v1/campaigns/${c.id}`)).status).toBe(404);
  });

  it('schedule, reschedule, cancel back to draft, send now from scheduled', async () => {
    const c = (await create({})).body;
    const s1 = await t.api('POST', `/api/v1/campaigns/${c.id}/schedule`, { scheduledAt: future() });
    expect(s1.status).toBe(200);
    expect(s1.body.status).toBe('scheduled');
    const later = future(7_200_000);
    const s2 = await t.api('POST', `/api/v1/campaigns/${c.id}/schedule`, { scheduledAt: later });
    expect(s2.body.timeline.scheduledAt).toBe(new Date(later).toISOString());
    expect((await t.api('POST', `/api/v1/campaigns/${c.id}/schedule`, { scheduledAt: '2001-01-01T00:00:00Z' })).body.error.code).toBe('schedule_in_past');
    expect((await t.api('POST', `/api/v1/campaigns/${c.id}/schedule`, {})).status).toBe(400);
    const back = await t.api('POST', `/api/v1/campaigns/${c.id}/cancel`);
    expect(back.body).toMatchObject({ status: 'draft' });
    expect(back.body.timeline.scheduledAt).toBeNull();
    await t.api('POST', `/api/v1/campaigns/${c.id}/schedule`, { scheduledAt: future() });
    const sent = await t.api('POST', `/api/v1/campaigns/${c.id}/send`);
    expect(sent.status).toBe(200);
    expect(sent.body.status).toBe('sending');
    expect(sent.body.stats.total).toBe(5);
    const done = await waitFor(async () => {
      const r = (await t.api('GET', `/api/v1/campaigns/${c.id}`)).body;
      return ['sent', 'failed', 'partial'].includes(r.status) ? r : null;
    });
    expect(done).toMatchObject({ status: 'partial', stats: { total: 5, sent: 4, failed: 1, skipped: 0, pending: 0 } });
    expect(done.completionTimeMs).toBe(Date.parse(done.timeline.completedAt) - Date.parse(done.timeline.startedAt));
  });

  it('refuses every action the status does not allow with 409 naming the status', async () => {
    const draft = (await create({})).body;
    for (const action of ['pause', 'resume', 'retry-failed']) {
      const res = await t.api('POST', `/api/v1/campaigns/${draft.id}/${action}`);
      expect(res.status, action).toBe(409);
      expect(res.body.error.message).toContain('draft');
    }
    expect((await t.api('POST', `/api/v1/campaigns/${draft.id}/cancel`)).status).toBe(409);
  });

  it('sending to an empty audience is a 400 and leaves the draft alone', async () => {
    const c = (await create({ audience: { type: 'tags', tags: ['nobody-has-this'] } })).body;
    const res = await t.api('POST', `/api/v1/campaigns/${c.id}/send`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('empty_audience');
    expect((await t.api('GET', `/api/v1/campaigns/${c.id}`)).body.status).toBe('draft');
  });

  it('pause, resume, cancel a sending campaign; counts kept and pending skipped', async () => {
    const c = (await t.api('POST', '/api/v1/campaigns', { name: 'slow', channelId: slow, message: { type: 'text', text: 'x' }, audience: { type: 'tags', tags: ['slow'] } })).body;
    expect((await t.api('POST', `/api/v1/campaigns/${c.id}/send`)).body.stats.total).toBe(30);
    await waitFor(async () => (await t.api('GET', `/api/v1/campaigns/${c.id}`)).body.stats.sent >= 1);
    const paused = await t.api('POST', `/api/v1/campaigns/${c.id}/pause`);
    expect(paused.body).toMatchObject({ status: 'paused', pauseReason: 'Paused by a user' });
    for (const action of ['send', 'pause', 'schedule', 'retry-failed']) {
      expect((await t.api('POST', `/api/v1/campaigns/${c.id}/${action}`, action === 'schedule' ? { scheduledAt: future() } : undefined)).status, action).toBe(409);
    }
    expect((await t.api('PATCH', `/api/v1/campaigns/${c.id}`, { name: 'x' })).status).toBe(409);
    const resumed = await t.api('POST', `/api/v1/campaigns/${c.id}/resume`);
    expect(resumed.body).toMatchObject({ status: 'sending', pauseReason: null });
    const cancelled = await t.api('POST', `/api/v1/campaigns/${c.id}/cancel`);
    expect(cancelled.body.status).toBe('cancelled');
    const final = await waitFor(async () => {
      const r = (await t.api('GET', `/api/v1/campaigns/${c.id}`)).body;
      return r.stats.pending === 0 ? r : null;
    });
    expect(final.status).toBe('cancelled');
    expect(final.stats.total).toBe(30);
    expect(final.stats.sent + final.stats.failed + final.stats.skipped).toBe(30);
    expect(final.stats.skipped).toBeGreaterThan(0);
    expect(final.stats.sent).toBeGreaterThan(0);
    expect(final.timeline.completedAt).not.toBeNull();
    for (const action of ['send', 'pause', 'resume', 'cancel', 'retry-failed']) {
      expect((await t.api('POST', `/api/v1/campaigns/${c.id}/${action}`)).status, action).toBe(409);
    }
    const skipped = await t.api('GET', `/api/v1/campaigns/${c.id}/recipients?status=skipped&limit=1000`);
    expect(skipped.body.items.length).toBe(final.stats.skipped);
  });

  it('lists campaigns newest first with status filter and cursor', async () => {
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await t.api('GET', `/api/v1/campaigns?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      for (const c of res.body.items) {
        expect(seen.has(c.id)).toBe(false);
        seen.add(c.id);
      }
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    const all = (await t.api('GET', '/api/v1/campaigns?limit=200')).body.items;
    expect(seen.size).toBe(all.length);
    expect(all.map((c: any) => c.id)).toEqual([...all.map((c: any) => c.id)].sort().reverse());
    const drafts = (await t.api('GET', '/api/v1/campaigns?status=draft&limit=200')).body.items;
    expect(drafts.length).toBeGreaterThan(0);
    expect(drafts.every((c: any) => c.status === 'draft')).toBe(true);
    expect((await t.api('GET', '/api/v1/campaigns?status=bogus')).status).toBe(400);
  });

  it('renders placeholders per recipient, retries failed recipients into a linked draft, exports CSV', async () => {
    const c = (await create({ message: { type: 'text', text: 'Hi {{name|friend}} from {{ city | home }}' } })).body;
    await t.api('POST', `/api/v1/campaigns/${c.id}/send`);
    const done = await waitFor(async () => {
      const r = (await t.api('GET', `/api/v1/campaigns/${c.id}`)).body;
      return r.status === 'partial' ? r : null;
    });
    expect(done.stats).toMatchObject({ total: 5, sent: 4, failed: 1, pending: 0 });

    const failed = await t.api('GET', `/api/v1/campaigns/${c.id}/recipients?status=failed`);
    expect(failed.body.items).toHaveLength(1);
    expect(failed.body.items[0]).toMatchObject({ providerUserId: 'fail-5', status: 'failed', errorClass: 'invalid_recipient', errorCode: 'SIM_INVALID', attempts: 1, sentAt: null });
    expect(failed.body.items[0].errorMessage).toContain('fail-5');
    const sent = await t.api('GET', `/api/v1/campaigns/${c.id}/recipients?status=sent`);
    expect(sent.body.items).toHaveLength(4);
    for (const r of sent.body.items) {
      expect(r.providerMessageId).toMatch(/^sim-/);
      expect(r.sentAt).not.toBeNull();
    }
    const summary = await t.api('GET', `/api/v1/campaigns/${c.id}/failures`);
    expect(summary.body.items).toEqual([{ errorClass: 'invalid_recipient', errorCode: 'SIM_INVALID', count: 1, sampleMessage: expect.stringContaining('fail-5') }]);

    const csv = await t.api('GET', `/api/v1/campaigns/${c.id}/recipients.csv`);
    expect(csv.status).toBe(200);
    expect(String(csv.headers['content-type'])).toContain('text/csv');
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('id,contactId,name,providerUserId,status,errorClass,errorCode,errorMessage,providerMessageId,attempts,sentAt,failedAt,deliveredAt,readAt');
    expect(lines).toHaveLength(6);

    const retry = await t.api('POST', `/api/v1/campaigns/${c.id}/retry-failed`);
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ status: 'draft', parentCampaignId: c.id, channelId: fast, message: c.message });
    expect((await t.api('GET', `/api/v1/campaigns/${retry.body.id}/audience-preview`)).body).toEqual({ count: 1 });
    const onlyRetryable = await t.api('POST', `/api/v1/campaigns/${c.id}/retry-failed`, { onlyRetryable: true });
    expect(onlyRetryable.status).toBe(400);
    expect(onlyRetryable.body.error.code).toBe('empty_audience');
    const again = await t.api('POST', `/api/v1/campaigns/${retry.body.id}/send`);
    expect(again.body.stats.total).toBe(1);
  });

  it('paginates recipients with a cursor', async () => {
    const c = (await t.api('POST', '/api/v1/campaigns', { name: 'p', channelId: slow, message: { type: 'text', text: 'x' }, audience: { type: 'all' } })).body;
    await t.api('POST', `/api/v1/campaigns/${c.id}/send`);
    await t.api('POST', `/api/v1/campaigns/${c.id}/pause`);
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await t.api('GET', `/api/v1/campaigns/${c.id}/recipients?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      ids.push(...res.body.items.map((i: any) => i.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    expect((await t.api('GET', `/api/v1/campaigns/${c.id}/recipients?cursor=${Buffer.from('x').toString('base64url')}`)).body.error.code).toBe('invalid_cursor');
    await t.api('POST', `/api/v1/campaigns/${c.id}/cancel`);
  });
});
