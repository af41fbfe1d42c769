import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../storage/db.ts';
import type { SendOutcome } from '../providers/types.ts';

/** Prometheus metrics of this process (served at /metrics). */
export class Metrics {
  readonly registry = new Registry();
  private readonly sends: Counter<'provider' | 'channel' | 'result' | 'class'>;
  private readonly latency: Histogram<'provider'>;

  constructor(db: Db) {
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_process_' });
    this.sends = new Counter({
      name: 'herald_recipients_total', help: 'Provider calls by channel and result (sent, or the failure class)',
      labelNames: ['provider', 'channel', 'result', 'class'], registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'herald_provider_latency_seconds', help: 'Provider call latency', labelNames: ['provider'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry],
    });
    new Gauge({
      name: 'herald_queue_depth', help: 'Recipients pending across sending and paused campaigns', registers: [this.registry],
      async collect() {
        const row = await db.k.selectFrom('campaigns').select((eb) => eb.fn.sum<number>(eb.parens(eb('total', '-', eb('sent', '+', eb('failed', '+', eb.ref('skipped')))))).as('n'))
          .where('status', 'in', ['sending', 'paused']).executeTakeFirst();
        this.set(Number(row?.n ?? 0));
      },
    });
    new Gauge({
      name: 'herald_campaigns', help: 'Campaigns by status', labelNames: ['status'], registers: [this.registry],
      async collect() {
        const rows = await db.k.selectFrom('campaigns').select((eb) => ['status', eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
        this.reset();
        for (const r of rows) this.set({ status: r.status }, Number(r.n));
      },
    });
  }

  observeSend(provider: string, channel: string, outcome: SendOutcome, seconds: number): void {
    this.sends.inc({ provider, channel, result: outcome.ok ? 'sent' : 'failed', class: outcome.ok ? '' : outcome.errorClass });
    this.latency.observe({ provider }, seconds);
  }
}
