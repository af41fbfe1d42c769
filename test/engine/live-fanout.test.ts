import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN_KEY, addContacts, simulatorChannel, startHerald, waitFor, type TestHerald } from '../helpers/harness.ts';

interface Frame { text: string; binary: boolean }

function connect(url: string, campaignId: string): Promise<{ ws: WebSocket; frames: Frame[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const frames: Frame[] = [];
    ws.on('message', (data, isBinary) => frames.push({ text: data.toString(), binary: isBinary }));
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe', campaignId }));
      resolve({ ws, frames });
    });
    ws.once('error', reject);
  });
}

/**
 * Each event is serialised once for all its subscribers (live-routes.ts): what every client gets
 * must still be the same text frames, JSON without the workspace id.
 */
describe('live events fan out as the same text frames to every client', () => {
  let t: TestHerald;
  let base: string;
  beforeAll(async () => {
    t = await startHerald('sqlite');
    base = (await t.herald.app!.listen({ port: 0, host: '127.0.0.1' })).replace('http', 'ws');
  });
  afterAll(() => t.close());

  it('three clients (two on the campaign, one on "*") receive identical text frames for every event', async () => {
    const ch = await simulatorChannel(t, {}, 200);
    await addContacts(t, ch, Array.from({ length: 60 }, (_, i) => ({ id: `fan-${i}`, tags: ['fan'] })));
    const c = (await t.api('POST', '/api/v1/campaigns', { name: 'fan', channelId: ch, message: { type: 'text', text: 'x' }, audience: { type: 'tags', tags: ['fan'] } })).body;
    const clients = await Promise.all([connect(`${base}/api/v1/ws`, c.id), connect(`${base}/api/v1/ws`, c.id), connect(`${base}/api/v1/ws`, '*')]);
    await waitFor(async () => clients.every((x) => x.frames.length >= 2), 10_000, 'subscriptions');
    await t.api('POST', `/api/v1/campaigns/${c.id}/send`);
    const done = (x: { frames: Frame[] }) => x.frames.some((f) => f.text.includes('"status":"sent"') && f.text.includes(c.id));
    await waitFor(async () => clients.every(done), 20_000, 'final event on every client');
    for (const x of clients) x.ws.close();

    for (const x of clients) {
      expect(x.frames.every((f) => !f.binary), 'text frames only').toBe(true);
      for (const f of x.frames) expect(JSON.parse(f.text)).not.toHaveProperty('workspaceId');
    }
    // Engine events (after the subscription answers) are byte for byte the same on every client.
    const events = (x: { frames: Frame[] }) => x.frames.map((f) => f.text).filter((s) => s.includes('"campaign.progress"') && s.includes(c.id)).slice(1);
    const [a, b, star] = clients.map(events);
    expect(a.length).toBeGreaterThan(2);
    expect(b).toEqual(a);
    expect(star.slice(-a.length)).toEqual(a);
    expect(JSON.parse(a[a.length - 1])).toMatchObject({ type: 'campaign.progress', campaignId: c.id, status: 'sent', stats: { total: 60, sent: 60 } });
  });
});
