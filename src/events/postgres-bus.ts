import pg from 'pg';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../storage/db.ts';
import { LocalBus } from './local-bus.ts';
import type { ProgressEvent } from './types.ts';
import { toCampaign } from '../campaigns/campaigns-store.ts';
import { stateEvent } from '../campaigns/campaign-view.ts';

const CHANNEL = 'herald_progress';
const POLL_MS = 2000;

/**
 * Progress events across processes: delivered locally at once, and NOTIFY'd to other processes.
 * Events are already coalesced by the engine (≤ 10/s per campaign), so a NOTIFY is never per
 * recipient. LISTEN is only a latency path: while its connection is down, the bus polls the
 * campaigns table and publishes changed campaigns, so an API process never goes blind.
 */
export class PostgresBus extends LocalBus {
  private readonly origin = randomUUID();
  private client: pg.Client | null = null;
  private closed = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private lastPoll = Date.now();
  private retry = 0;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {
    super();
    void this.connect();
  }

  override publish(event: ProgressEvent): void {
    this.deliver(event);
    const payload = JSON.stringify({ o: this.origin, e: event });
    if (payload.length > 7900) return;
    void sql`select pg_notify(${CHANNEL}, ${payload})`.execute(this.db.k)
      .catch((err: unknown) => this.log.warn({ err }, 'NOTIFY failed; other processes fall back to polling'));
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.db.pgConfig);
    client.on('error', (err) => {
      this.log.warn({ err }, 'LISTEN connection lost; polling until it is back');
      this.reconnect(client);
    });
    client.on('end', () => this.reconnect(client));
    client.on('notification', (msg) => {
      if (!msg.payload) return;
      try {
        const { o, e } = JSON.parse(msg.payload) as { o: string; e: ProgressEvent };
        if (o !== this.origin) this.deliver(e);
      } catch {
        // Not ours: ignore.
      }
    });
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
      this.client = client;
      this.retry = 0;
      this.stopPolling();
    } catch (err) {
      this.log.warn({ err }, 'LISTEN connection failed; polling until it works');
      this.reconnect(client);
    }
  }

  private reconnect(client: pg.Client): void {
    if (this.client === client) this.client = null;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.startPolling();
    const delay = Math.min(10_000, 250 * 2 ** this.retry++);
    setTimeout(() => void this.connect(), delay).unref();
  }

  private startPolling(): void {
    if (this.pollTimer || this.closed) return;
    this.lastPoll = Date.now() - POLL_MS;
    this.pollTimer = setInterval(() => void this.poll(), POLL_MS);
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private async poll(): Promise<void> {
    const since = this.lastPoll;
    this.lastPoll = Date.now();
    try {
      const rows = await this.db.k.selectFrom('campaigns').selectAll().where('updated_at', '>=', since).limit(500).execute();
      for (const row of rows) this.deliver(stateEvent(toCampaign(row)));
    } catch (err) {
      this.log.debug({ err }, 'event poll failed');
    }
  }

  override async close(): Promise<void> {
    this.closed = true;
    this.stopPolling();
    const c = this.client;
    this.client = null;
    if (c) {
      c.removeAllListeners('end');
      await c.end().catch(() => undefined);
    }
    await super.close();
  }
}
