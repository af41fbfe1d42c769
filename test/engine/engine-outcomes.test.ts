import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, addContacts, simulatorChannel, startHerald, waitFor, type TestHerald } from '../helpers/harness.ts';

const FINAL = ['sent', 'failed', 'partial', 'cancelled'];

describe.each(DIALECTS)('delivery engine outcomes on %s', (dialect) => {
  let t: TestHerald;
  beforeAll(async () => {
    t = await startHerald(dialect, { engine: { retry: { maxTransientRetries: 2, baseBackoffMs: 20, maxBackoffMs: 50 }, tickMs: 100 } });
  });
  afterAll(() => t.close());

  async function campaignFor(channelId: string, users: string[], tag: string) {
    await addContacts(t, channelId, users.map((id) => ({ id, tags: [tag] })));
    const c = await t.api('POST', '/api/v1/campaigns', { name: tag, channelId, message: { type: 'text', text: 'hello {{name}}' }, audience: { type: 'tags', tags: [tag] } });
    expect(c.status).toBe(201);
    return c.body.id as string;
  }
  const get = async (id: string) => (await t.api('GET', `/api/v1/campaigns/${id}`)).body;
  const until = (id: string, pred: (c: any) => boolean, what: string) => waitFor(async () => { const c = await get(id); return pred(c) ? c : null; }, 20_000, what);
  const recipients = async (id: string, status?: string) => (await t.api('GET', `/api/v1/campaigns/${id}/recipients?limit=1000${status ? `&status=${status}` : ''}`)).body.items;

  it('auto-pauses after exactly 5 consecutive failures; a success resets the count; resume continues', async () => {
    const ch = await simulatorChannel(t, { concurrency: 1 }, 1000);
    // Sent in this order: 4 failures, 1 success (resets), then failures.
    const users = ['fail-a1', 'fail-a2', 'fail-a3', 'fail-a4', 'ok-a5', 'fail-a6', 'fail-a7', 'fail-a8', 'fail-a9', 'fail-b0', 'fail-b1', 'ok-b2'];
    const id = await campaignFor(ch, users, 'autopause');
    await t.api('POST', `/api/v1/campaigns/${id}/send`);
    const paused = await until(id, (c) => c.status === 'paused', 'auto-pause');
    expect(paused.stats).toMatchObject({ total: 12, sent: 1, failed: 9, pending: 2 });
    expect(paused.pauseReason).toContain('5 consecutive failures');
    expect(paused.pauseReason).toContain('does not exist');
    // No send started after the fifth consecutive failure was recorded.
    const pending = await recipients(id, 'pending');
    expect(pending.map((r: any) => r.providerUserId).sort()).toEqual(['fail-b1', 'ok-b2']);
    expect(pending.every((r: any) => r.attempts === 0)).toBe(true);
    await t.api('POST', `/api/v1/campaigns/${id}/resume`);
    const done = await until(id, (c) => FINAL.includes(c.status), 'completion after resume');
    expect(done).toMatchObject({ status: 'partial', stats: { total: 12, sent: 2, failed: 10, skipped: 0, pending: 0 } });
  });

  it('counts consecutive failures in send order: slow failures landing after later sends succeeded do not pause', async () => {
    // Found by the provider-fault run: timeouts answer last, so when in-flight calls drain (at the
    // end, or while a 429 holds the channel) several land in a row and tripped the auto-pause.
    const ch = await simulatorChannel(t, { concurrency: 32, slowMs: 600 }, 1000);
    const users = [...Array.from({ length: 3 }, (_, i) => `ok-s${i}`), ...Array.from({ length: 6 }, (_, i) => `slow-fail-s${i}`), ...Array.from({ length: 8 }, (_, i) => `ok-t${i}`)];
    const id = await campaignFor(ch, users, 'slowfail');
    await t.api('POST', `/api/v1/campaigns/${id}/send`);
    const done = await until(id, (c) => FINAL.includes(c.status) || c.status === 'paused', 'completion');
    expect(done).toMatchObject({ status: 'partial', pauseReason: null, stats: { total: 17, sent: 11, failed: 6, pending: 0 } });
    // Slow failures with no later success are a run, and pause.
    const ch2 = await simulatorChannel(t, { concurrency: 32, slowMs: 300 }, 1000);
    const id2 = await campaignFor(ch2, Array.from({ length: 6 }, (_, i) => `slow-fail-u${i}`), 'slowfail-run');
    await t.api('POST', `/api/v1/campaigns/${id2}/send`);
    const paused = await until(id2, (c) => c.status === 'paused', 'auto-pause');
    expect(paused.pauseReason).toContain('5 consecutive failures');
  });

  it('takes the auto-pause threshold from the workspace setting', async () => {
    expect((await t.api('GET', '/api/v1/workspace')).body.autoPauseThreshold).toBe(5);
    const viewer = await t.keyFor('default', 'viewer');
    expect((await t.api('PATCH', '/api/v1/workspace', { autoPauseThreshold: 2 }, viewer)).status).toBe(403);
    expect((await t.api('PATCH', '/api/v1/workspace', { autoPauseThreshold: 0 })).status).toBe(400);
    expect((await t.api('PATCH', '/api/v1/workspace', { autoPauseThreshold: 2 })).body.autoPauseThreshold).toBe(2);
    try {
      const ch = await simulatorChannel(t, { concurrency: 1 }, 1000);
      const id = await campaignFor(ch, ['fail-t1', 'fail-t2', 'fail-t3', 'ok-t4'], 'threshold');
      await t.api('POST', `/api/v1/campaigns/${id}/send`);
      const paused = await until(id, (c) => c.status === 'paused', 'auto-pause at 2');
      expect(paused.stats).toMatchObject({ failed: 2, sent: 0, pending: 2 });
      expect(paused.pauseReason).toContain('2 consecutive failures');
    } finally {
      await t.api('PATCH', '/api/v1/workspace', { autoPauseThreshold: 5 });
    }
  });

  it('pauses at once on channel_auth, flags the channel, and resumes after the credentials are fixed', async () => {
    const ch = await simulatorChannel(t, { authExpired: true }, 1000);
    const id = await campaignFor(ch, ['c1', 'c2', 'c3'], 'auth');
    await t.api('POST', `/api/v1/campaigns/${id}/send`);
    const paused = await until(id, (c) => c.status === 'paused', 'channel_auth pause');
    expect(paused.stats).toMatchObject({ total: 3, sent: 0, failed: 0, pending: 3 });
    expect(paused.pauseReason).toMatch(/credentials are invalid/i);
    const channel = (await t.api('GET', `/api/v1/channels/${ch}`)).body;
    expect(channel.status).toBe('auth_failed');
    expect(channel.statusMessage).toContain('expired');
    const fixed = await t.api('PATCH', `/api/v1/channels/${ch}`, { credentials: { token: 'new' }, settings: { authExpired: false } });
    expect(fixed.body.status).toBe('ok');
    await t.api('POST', `/api/v1/campaigns/${id}/resume`);
    const done = await until(id, (c) => FINAL.includes(c.status), 'completion');
    expect(done).toMatchObject({ status: 'sent', stats: { sent: 3, failed: 0 } });
  });

  it('retries rate-limit answers without counting failures', async () => {
    const ch = await simulatorChannel(t, {}, 1000);
    const id = await campaignFor(ch, ['throttle-1', 'throttle-2', 'throttle-3', 'plain-4'], 'throttle');
    await t.api('POST', `/api/v1/campaigns/${id}/send`);
    const done = await until(id, (c) => FINAL.includes(c.status), 'completion');
    expect(done).toMatchObject({ status: 'sent', stats: { total: 4, sent: 4, failed: 0 } });
    const rs = await recipients(id);
    for (const r of rs.filter((x: any) => x.providerUserId.startsWith('throttle-'))) expect(r.attempts).toBe(2);
  });

  it('retries transient failures with backoff, then gives up after the bounded number of retries', async () => {
    const flaky = await simulatorChannel(t, {}, 1000);
    const id = await campaignFor(flaky, ['flaky-1', 'flaky-2'], 'flaky');
    await t.api('POST', `/api/v1/campaigns/${id}/send`);
    const done = await until(id, (c) => FINAL.includes(c.status), 'flaky completion');
    expect(done.stats).toMatchObject({ sent: 2, failed: 0 });
    expect((await recipients(id)).map((r: any) => r.attempts)).toEqual([2, 2]);

    const down = await simulatorChannel(t, { failureRate: 1 }, 1000);
    const id2 = await campaignFor(down, ['d1'], 'down');
    await t.api('POST', `/api/v1/campaigns/${id2}/send`);
    const failed = await until(id2, (c) => FINAL.includes(c.status), 'down completion');
    expect(failed).toMatchObject({ status: 'failed', stats: { sent: 0, failed: 1 } });
    const [r] = await recipients(id2);
    expect(r.attempts).toBe(3);
    expect(r.errorClass).toBe('transient');
    expect(r.errorMessage).toContain('gave up after 3 attempts');
  });

  it('fails blocked recipients and opts their identity out; content rejections fail at once', async () => {
    const ch = await simulatorChannel(t, {}, 1000);
    const id = await campaignFor(ch, ['block-1', 'reject-2', 'fine-3'], 'blocked');
    await t.api('POST', `/api/v1/campaigns/${id}/send`);
    const done = await until(id, (c) => FINAL.includes(c.status), 'completion');
    expect(done).toMatchObject({ status: 'partial', stats: { sent: 1, failed: 2 } });
    const failures = (await t.api('GET', `/api/v1/campaigns/${id}/failures`)).body.items.map((f: any) => f.errorClass).sort();
    expect(failures).toEqual(['content_rejected', 'recipient_blocked']);
    const contact = (await t.api('GET', `/api/v1/contacts?q=block-1`)).body.items[0];
    expect(contact.identities[0]).toMatchObject({ providerUserId: 'block-1', optedOut: true });
    // A later campaign to everyone leaves the blocked identity out.
    const next = await t.api('POST', '/api/v1/campaigns', { name: 'next', channelId: ch, message: { type: 'text', text: 'x' }, audience: { type: 'all' } });
    expect((await t.api('GET', `/api/v1/campaigns/${next.body.id}/audience-preview`)).body.count).toBe(2);
  });

  it('keeps counters equal to the recipient rows (total = sent + failed + skipped + pending)', async () => {
    const ch = await simulatorChannel(t, { failureRate: 0.3 }, 2000);
    const users = Array.from({ length: 300 }, (_, i) => (i % 10 === 0 ? `fail-r${i}` : `r${i}`));
    const id = await campaignFor(ch, users, 'reconcile');
    await t.api('POST', `/api/v1/campaigns/${id}/send`);
    const done = await until(id, (c) => FINAL.includes(c.status) || c.status === 'paused', 'completion');
    const rows = await t.herald.ctx.db.k.selectFrom('campaign_recipients').select(['status']).where('campaign_id', '=', id).execute();
    const count = (s: string) => rows.filter((r) => r.status === s).length;
    expect(rows.length).toBe(300);
    expect(done.stats).toMatchObject({ total: 300, sent: count('sent'), failed: count('failed'), skipped: count('skipped'), pending: count('pending') });
  });

  it('starts a scheduled campaign by itself when its time comes', async () => {
    const ch = await simulatorChannel(t, {}, 1000);
    await addContacts(t, ch, [{ id: 'sched-1', tags: ['sched'] }]);
    const at = new Date(Date.now() + 1500).toISOString();
    const c = await t.api('POST', '/api/v1/campaigns', { name: 's', channelId: ch, message: { type: 'text', text: 'x' }, audience: { type: 'tags', tags: ['sched'] }, scheduledAt: at });
    expect(c.body.status).toBe('scheduled');
    const done = await until(c.body.id, (x) => x.status === 'sent', 'scheduled send');
    expect(Date.parse(done.timeline.startedAt)).toBeGreaterThanOrEqual(Date.parse(at));
    expect(done.timeline.scheduledAt).toBe(new Date(at).toISOString());
  });

  it('a scheduled campaign whose audience emptied meanwhile ends as failed with a reason', async () => {
    const ch = await simulatorChannel(t, {}, 1000);
    const ids = await addContacts(t, ch, [{ id: 'gone-1', tags: ['gone'] }]);
    const c = await t.api('POST', '/api/v1/campaigns', { name: 'g', channelId: ch, message: { type: 'text', text: 'x' }, audience: { type: 'tags', tags: ['gone'] }, scheduledAt: new Date(Date.now() + 800).toISOString() });
    await t.api('DELETE', `/api/v1/contacts/${ids[0]}`);
    const done = await until(c.body.id, (x) => FINAL.includes(x.status), 'scheduled with empty audience');
    expect(done).toMatchObject({ status: 'failed', statusReason: expect.stringContaining('empty'), stats: { total: 0 } });
  });
});
