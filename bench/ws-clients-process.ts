/**
 * Many WebSocket clients in their own process (so they do not share Herald's event loop), for
 * bench/live-clients.ts. Started with fork(); driven over IPC:
 * - {cmd:'connect', url, key, campaignId, clients}: opens `clients` sockets (Authorization: Bearer
 *   <key>), subscribes each to the campaign and answers once every one has its `subscribed` answer
 *   and the current-state event;
 * - {cmd:'collect', finalStatuses, timeoutMs}: waits until every client has received an event with
 *   a final status (or the timeout), closes the sockets and answers with what each client saw.
 * A message's receive time is taken first thing in the 'message' handler; parsing comes after.
 */
import WebSocket from 'ws';

interface Client {
  ws: WebSocket;
  subscribed: boolean;
  gotState: boolean;
  /** receive time − event `at` (ms), for every campaign.progress event after the initial state */
  delays: number[];
  /** receive time and identity (`at`, status, processed) of each of those events, to measure the spread of one event across clients */
  received: number[];
  keys: string[];
  events: number;
  final: boolean;
  errors: string[];
}

let clients: Client[] = [];
let finalStatuses = new Set<string>(['sent', 'failed', 'partial', 'cancelled']);
let cpuAtConnect = process.cpuUsage();
let wallAtConnect = performance.now();

function open(url: string, key: string, campaignId: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${key}` }, perMessageDeflate: false });
    const c: Client = { ws, subscribed: false, gotState: false, delays: [], received: [], keys: [], events: 0, final: false, errors: [] };
    let settled = false;
    ws.on('message', (data: Buffer) => {
      const received = Date.now();
      const m = JSON.parse(data.toString()) as { type: string; status?: string; at?: string; code?: string; stats?: { sent: number; failed: number; skipped: number } };
      if (m.type === 'subscribed') c.subscribed = true;
      else if (m.type === 'campaign.progress') {
        if (!c.gotState) {
          // The answer to the subscription: the current state, not an engine event.
          c.gotState = true;
          if (!settled) {
            settled = true;
            resolve(c);
          }
          return;
        }
        const at = Date.parse(m.at!);
        c.events++;
        c.delays.push(received - at);
        c.received.push(received);
        c.keys.push(`${m.at}|${m.status}|${m.stats ? m.stats.sent + m.stats.failed + m.stats.skipped : ''}`);
        if (finalStatuses.has(m.status!)) c.final = true;
      } else if (m.type === 'error') c.errors.push(m.code ?? 'error');
    });
    ws.once('open', () => ws.send(JSON.stringify({ type: 'subscribe', campaignId })));
    ws.once('error', (err) => {
      c.errors.push(err.message);
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
    ws.once('close', (code) => {
      if (!settled) {
        settled = true;
        reject(new Error(`closed with ${code} before subscribing`));
      }
    });
  });
}

async function connect(url: string, key: string, campaignId: string, n: number): Promise<{ connected: number; failed: number; ms: number; firstError?: string }> {
  const started = performance.now();
  clients = [];
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  // 50 handshakes at a time: well inside the listen backlog.
  await Promise.all(Array.from({ length: Math.min(50, n) }, async () => {
    while (next < n) {
      next++;
      try {
        clients.push(await open(url, key, campaignId));
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    }
  }));
  cpuAtConnect = process.cpuUsage();
  wallAtConnect = performance.now();
  return { connected: clients.length, failed, ms: Math.round(performance.now() - started), firstError };
}

async function collect(timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (clients.some((c) => !c.final) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const cpu = process.cpuUsage(cpuAtConnect);
  const wallMs = performance.now() - wallAtConnect;
  await Promise.all(clients.map((c) => new Promise<void>((resolve) => {
    if (c.ws.readyState === WebSocket.CLOSED) return resolve();
    c.ws.once('close', () => resolve());
    c.ws.close();
    setTimeout(resolve, 2000).unref();
  })));
  // Spread of one event across clients: last receive − first receive.
  const byEvent = new Map<string, { min: number; max: number }>();
  for (const c of clients) {
    c.keys.forEach((k, i) => {
      const r = c.received[i];
      const e = byEvent.get(k);
      if (!e) byEvent.set(k, { min: r, max: r });
      else {
        e.min = Math.min(e.min, r);
        e.max = Math.max(e.max, r);
      }
    });
  }
  const result = {
    clients: clients.length,
    delays: clients.flatMap((c) => c.delays),
    eventsPerClient: clients.map((c) => c.events),
    withFinal: clients.filter((c) => c.final).length,
    errors: clients.reduce((n, c) => n + c.errors.length, 0),
    spreads: [...byEvent.values()].map((e) => e.max - e.min),
    cpuPct: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
  };
  clients = [];
  return result;
}

process.on('message', (msg: { cmd: string; url?: string; key?: string; campaignId?: string; clients?: number; timeoutMs?: number; finalStatuses?: string[] }) => {
  void (async () => {
    if (msg.cmd === 'connect') process.send!(await connect(msg.url!, msg.key!, msg.campaignId!, msg.clients!));
    else if (msg.cmd === 'collect') {
      if (msg.finalStatuses) finalStatuses = new Set(msg.finalStatuses);
      process.send!(await collect(msg.timeoutMs ?? 60_000));
    }
  })().catch((err) => process.send!({ error: (err as Error).message }));
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
