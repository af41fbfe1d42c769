import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { AppContext } from '../../app-context.ts';
import { getCampaign, toCampaign } from '../../campaigns/campaigns-store.ts';
import { stateEvent } from '../../campaigns/campaign-view.ts';
import type { ProgressEvent } from '../../events/types.ts';
import type { Metrics } from '../../engine/metrics.ts';
import type { Routes } from '../route-kit.ts';

/** A client further behind than this skips intermediate events (the next one carries the latest counts). */
const MAX_BUFFERED = 256 * 1024;

/**
 * An event as sent: JSON without the workspace id, encoded once. The bus hands the same event
 * object to every subscriber, so 1,000 clients cost one JSON.stringify and one UTF-8 encoding
 * instead of 1,000 of each (measured: fan-out of one event to 1,000 local clients 25–33 ms → 21 ms).
 */
const wire = new WeakMap<ProgressEvent, Buffer>();
function toWire(e: ProgressEvent): Buffer {
  let data = wire.get(e);
  if (!data) {
    const { workspaceId: _ws, ...rest } = e;
    data = Buffer.from(JSON.stringify(rest));
    wire.set(e, data);
  }
  return data;
}

/**
 * GET /api/v1/ws: live campaign events. Subscribe with {"type":"subscribe","campaignId":"…"|"*"};
 * the answer is the current state at once, then every event. Sends never block the engine: the bus
 * calls a listener that writes to the socket or, when the client is slow, drops the event.
 */
export async function registerLiveRoutes(app: FastifyInstance, routes: Routes, ctx: AppContext, metrics?: Metrics): Promise<void> {
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  app.get('/api/v1/ws', { websocket: true }, async (socket: WebSocket, req) => {
    const auth = req.auth;
    if (!auth) {
      socket.close(4401, 'unauthorized: invalid or missing API key');
      return;
    }
    const subs = new Map<string, () => void>();
    // Always text frames (a Buffer would otherwise go out as a binary frame: a Blob in browsers).
    const send = (data: string | Buffer) => {
      if (socket.readyState === socket.OPEN && socket.bufferedAmount < MAX_BUFFERED) socket.send(data, { binary: false });
    };
    socket.on('message', (raw) => {
      void (async () => {
        let msg: { type?: unknown; campaignId?: unknown };
        try {
          msg = JSON.parse(raw.toString());
        } catch {
          send(JSON.stringify({ type: 'error', code: 'invalid_json', message: 'Messages must be JSON' }));
          return;
        }
        const id = typeof msg.campaignId === 'string' ? msg.campaignId : null;
        if ((msg.type !== 'subscribe' && msg.type !== 'unsubscribe') || !id) {
          send(JSON.stringify({ type: 'error', code: 'validation_failed', message: 'Send {"type":"subscribe","campaignId":"<id>|*"} or unsubscribe' }));
          return;
        }
        if (msg.type === 'unsubscribe') {
          subs.get(id)?.();
          subs.delete(id);
          send(JSON.stringify({ type: 'unsubscribed', campaignId: id }));
          return;
        }
        if (id !== '*') {
          const c = await getCampaign(ctx.db, auth.workspaceId, id);
          if (!c) {
            send(JSON.stringify({ type: 'error', code: 'not_found', message: 'Campaign not found', campaignId: id }));
            return;
          }
          if (!subs.has(id)) subs.set(id, ctx.bus.subscribe(auth.workspaceId, id, (e) => send(toWire(e))));
          send(JSON.stringify({ type: 'subscribed', campaignId: id }));
          send(toWire(stateEvent(c)));
          return;
        }
        if (!subs.has('*')) subs.set('*', ctx.bus.subscribe(auth.workspaceId, '*', (e) => send(toWire(e))));
        send(JSON.stringify({ type: 'subscribed', campaignId: '*' }));
        // Current state of the active campaigns, and of those that changed in the last minute: a
        // client that loaded its list just before subscribing would otherwise miss a campaign
        // that finished in between.
        const rows = await ctx.db.k.selectFrom('campaigns').selectAll().where('workspace_id', '=', auth.workspaceId)
          .where((eb) => eb.or([eb('status', 'in', ['scheduled', 'sending', 'paused']), eb('updated_at', '>', Date.now() - 60_000)]))
          .orderBy('id', 'desc').limit(200).execute();
        for (const row of rows) send(toWire(stateEvent(toCampaign(row))));
      })().catch((err) => ctx.log.error({ err }, 'websocket message failed'));
    });
    socket.on('close', () => {
      for (const off of subs.values()) off();
      subs.clear();
    });
  });
  routes.documented.push({ method: 'GET', url: '/api/v1/ws', tag: 'live', role: 'viewer', summary: 'WebSocket: {"type":"subscribe","campaignId":"…"|"*"} → current state, then campaign.progress events (key in ?token= or Authorization)', success: { status: 101, description: 'Switching protocols' } });

  app.get('/metrics', async (_req, reply) => {
    if (!metrics) return reply.code(404).send({ error: { code: 'not_found', message: 'metrics are served by processes that run the engine' } });
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
