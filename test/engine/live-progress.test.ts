import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN_KEY, DIALECTS, addContacts, simulatorChannel, startHerald, waitFor, type TestHerald } from '../helpers/harness.ts';

interface Msg { type: string; campaignId?: string; status?: string; stats?: { total: number; sent: number; failed: number; skipped: number; pending: number }; ratePerSecond?: number; etaSeconds?: number | null; code?: string }

function connect(url: string): Promise<{ ws: WebSocket; messages: Msg[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages: Msg[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('error', reject);
  });
}

describe.each(DIALECTS)('live progress over WebSocket on %s', (dialect) => {
  let t: TestHerald;
  let base: string;
  beforeAll(async () => {
    t = await startHerald(dialect);
    const address = await t.herald.app!.listen({ port: 0, host: '127.0.0.1' });
    base = address.replace('http', 'ws');
  });
  afterAll(() => t.close());

  it('rejects a connection without a valid key', async () => {
    const closed = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base}/api/v1/ws?token=wrong`);
      ws.on('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      ws.on('close', (code) => resolve(code));
      ws.on('error', () => undefined);
    });
    expect([401, 4401]).toContain(closed);
  });

  it('answers a subscription with the current state, then streams events every 10 recipients and on each status change', async () => {
    const ch = await simulatorChannel(t, {}, 25);
    await addContacts(t, ch, Array.from({ length: 45 }, (_, i) => ({ id: `ws-${i}`, tags: ['ws'] })));
    const c = (await t.api('POST', '/api/v1/campaigns', { name: 'live', channelId: ch, message: { type: 'text', text: 'x' }, audience: { type: 'tags', tags: ['ws'] } })).body;
    const { ws, messages } = await connect(`${base}/api/v1/ws?token=${ADMIN_KEY}`);
    ws.send(JSON.stringify({ type: 'subscribe', campaignId: c.id }));
    await waitFor(async () => messages.length >= 2);
    expect(messages[0]).toEqual({ type: 'subscribed', campaignId: c.id });
    expect(messages[1]).toMatchObject({ type: 'campaign.progress', campaignId: c.id, status: 'draft', stats: { total: 0 } });

    await t.api('POST', `/api/v1/campaigns/${c.id}/send`);
    await waitFor(async () => messages.some((m) => m.status === 'sent'), 20_000, 'final event');
    ws.close();
    const progress = messages.filter((m) => m.type === 'campaign.progress').slice(1);
    expect(progress[0]).toMatchObject({ status: 'sending', stats: { total: 45 } });
    const final = progress[progress.length - 1];
    expect(final).toMatchObject({ status: 'sent', stats: { total: 45, sent: 45, failed: 0, skipped: 0, pending: 0 } });
    // Every multiple of 10 that the processed count passed produced an event carrying it.
    const processed = progress.map((m) => m.stats!.sent + m.stats!.failed + m.stats!.skipped);
    for (const mark of [10, 20, 30, 40]) {
      const firstAt = processed.findIndex((p) => p >= mark);
      expect(firstAt, `event at ${mark}`).toBeGreaterThan(0);
      expect(processed[firstAt] - mark, `first event past ${mark} is near it`).toBeLessThan(10);
    }
    // Never more events than multiples of 10 passed plus status changes (no per-recipient events).
    expect(progress.length).toBeLessThanOrEqual(4 + 3);
    for (const m of progress) expect(m.stats!.total).toBe(m.stats!.sent + m.stats!.failed + m.stats!.skipped + m.stats!.pending);
    const mid = progress.find((m) => m.status === 'sending' && (m.ratePerSecond ?? 0) > 0);
    expect(mid?.etaSeconds).not.toBeNull();
  });

  it('a "*" subscription sees every campaign of its workspace and nothing of another workspace', async () => {
    const otherKey = await t.keyFor('ws-other');
    const mine = await connect(`${base}/api/v1/ws?token=${ADMIN_KEY}`);
    const theirs = await connect(`${base}/api/v1/ws?token=${otherKey}`);
    mine.ws.send(JSON.stringify({ type: 'subscribe', campaignId: '*' }));
    theirs.ws.send(JSON.stringify({ type: 'subscribe', campaignId: '*' }));
    const ch = await simulatorChannel(t, {}, 1000);
    await addContacts(t, ch, [{ id: 'star-1', tags: ['star'] }]);
    const c = (await t.api('POST', '/api/v1/campaigns', { name: 'star', channelId: ch, message: { type: 'text', text: 'x' }, audience: { type: 'tags', tags: ['star'] } })).body;
    await t.api('POST', `/api/v1/campaigns/${c.id}/send`);
    await waitFor(async () => mine.messages.some((m) => m.campaignId === c.id && m.status === 'sent'), 10_000, 'star event');
    // The other workspace cannot subscribe to this campaign either.
    theirs.ws.send(JSON.stringify({ type: 'subscribe', campaignId: c.id }));
    await waitFor(async () => theirs.messages.some((m) => m.type === 'error'));
    expect(theirs.messages.filter((m) => m.campaignId === c.id && m.type === 'campaign.progress')).toEqual([]);
    expect(theirs.messages.find((m) => m.type === 'error')).toMatchObject({ code: 'not_found' });
    mine.ws.close();
    theirs.ws.close();
  });
});
