import type { Logger } from 'pino';
import type { ReceiptEvent } from '../providers/webhook-types.ts';

/**
 * Receipts that overtook the send they report on. Providers can call back within milliseconds
 * (a mock, or a fast network), while the engine writes send answers in batches a few ms later;
 * such a receipt matches no recipient yet. Rather than lose it, it is applied again after short,
 * growing delays (about 16 s in all). This lives in the process that received the webhook: the
 * provider already has its 200, so a restart in that window loses the receipt, which only costs a
 * delivered/read mark. The queue is bounded; beyond it receipts are dropped with a warning.
 */

export const RETRY_DELAYS_MS: readonly number[] = [50, 100, 250, 500, 1000, 2000, 4000, 8000];

/** Applies receipts once; returns those that still match nothing but may match later. */
export type ReceiptApplier = (channelId: string, receipts: ReceiptEvent[]) => Promise<ReceiptEvent[]>;

export class ReceiptRetrier {
  private readonly timers = new Set<NodeJS.Timeout>();
  private queued = 0;
  private closed = false;

  constructor(
    private readonly apply: ReceiptApplier,
    private readonly log: Logger,
    private readonly delays: readonly number[] = RETRY_DELAYS_MS,
    private readonly maxQueued = 10_000,
  ) {}

  /** Receipts waiting for another attempt. */
  get size(): number {
    return this.queued;
  }

  defer(channelId: string, receipts: ReceiptEvent[], attempt = 0): void {
    if (this.closed || receipts.length === 0) return;
    if (attempt >= this.delays.length) {
      this.log.debug({ channelId, receipts: receipts.map((r) => r.providerMessageId) }, 'webhook receipts match no recipient; dropped');
      return;
    }
    if (this.queued + receipts.length > this.maxQueued) {
      this.log.warn({ channelId, dropped: receipts.length }, 'too many unmatched webhook receipts waiting; dropping');
      return;
    }
    this.queued += receipts.length;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.queued -= receipts.length;
      if (this.closed) return;
      this.apply(channelId, receipts).then(
        (left) => this.defer(channelId, left, attempt + 1),
        (err: unknown) => {
          this.log.warn({ err, channelId }, 'applying deferred webhook receipts failed; retrying');
          this.defer(channelId, receipts, attempt + 1);
        },
      );
    }, this.delays[attempt]);
    timer.unref();
    this.timers.add(timer);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queued = 0;
  }
}
