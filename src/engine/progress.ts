import type { EventBus, ProgressEvent } from '../events/types.ts';
import type { CampaignStatus } from '../campaigns/lifecycle.ts';

export interface ObservedState {
  campaignId: string;
  workspaceId: string;
  status: string;
  total: number;
  sent: number;
  failed: number;
  skipped: number;
  delivered?: number;
  read?: number;
  pauseReason: string | null;
}

interface Track {
  bucket: number;
  status: string;
  lastAt: number;
  timer: NodeJS.Timeout | null;
  latest: ObservedState;
  samples: { t: number; processed: number }[];
  waitingReason?: string;
}

/** At most this many events per second per campaign; each carries the latest counts. */
const MIN_GAP_MS = 100;
const RATE_WINDOW_MS = 5000;

/**
 * Decides when a campaign's progress is published: each time the processed count passes a
 * multiple of 10 (the original product's cadence) and on every status change, coalesced to at
 * most ~10 events/s (a trailing event always carries the latest counts). Computes the current
 * rate over a 5 s window and the time left.
 */
export class ProgressPublisher {
  private readonly tracks = new Map<string, Track>();
  constructor(private readonly bus: EventBus) {}

  observe(s: ObservedState, waitingReason?: string): void {
    const processed = s.sent + s.failed + s.skipped;
    const now = Date.now();
    let t = this.tracks.get(s.campaignId);
    if (!t) {
      t = { bucket: Math.floor(processed / 10), status: s.status, lastAt: 0, timer: null, latest: s, samples: [], waitingReason };
      this.tracks.set(s.campaignId, t);
      this.emit(t);
      return;
    }
    t.latest = s;
    t.samples.push({ t: now, processed });
    while (t.samples.length > 2 && t.samples[0].t < now - RATE_WINDOW_MS) t.samples.shift();
    const bucket = Math.floor(processed / 10);
    const statusChanged = s.status !== t.status;
    const reasonChanged = waitingReason !== t.waitingReason;
    t.waitingReason = waitingReason;
    if (statusChanged) {
      t.status = s.status;
      t.bucket = bucket;
      this.emit(t);
      if (['sent', 'failed', 'partial', 'cancelled'].includes(s.status)) this.forget(s.campaignId);
      return;
    }
    if (bucket === t.bucket && !reasonChanged) return;
    t.bucket = bucket;
    const wait = t.lastAt + MIN_GAP_MS - now;
    if (wait <= 0) this.emit(t);
    else if (!t.timer) {
      t.timer = setTimeout(() => {
        t.timer = null;
        this.emit(t);
      }, wait);
      t.timer.unref();
    }
  }

  /** Publishes the current state now (waiting-reason changes, subscriptions). */
  private emit(t: Track): void {
    if (t.timer) {
      clearTimeout(t.timer);
      t.timer = null;
    }
    t.lastAt = Date.now();
    this.bus.publish(this.toEvent(t));
  }

  rateOf(campaignId: string): number {
    const t = this.tracks.get(campaignId);
    if (!t || t.samples.length < 2) return 0;
    const a = t.samples[0];
    const b = t.samples[t.samples.length - 1];
    const dt = (b.t - a.t) / 1000;
    return dt > 0 ? Math.max(0, (b.processed - a.processed) / dt) : 0;
  }

  private toEvent(t: Track): ProgressEvent {
    const s = t.latest;
    const pending = s.total - s.sent - s.failed - s.skipped;
    const rate = this.rateOf(s.campaignId);
    return {
      type: 'campaign.progress',
      workspaceId: s.workspaceId,
      campaignId: s.campaignId,
      status: s.status as CampaignStatus,
      stats: { total: s.total, sent: s.sent, failed: s.failed, skipped: s.skipped, pending, delivered: s.delivered ?? 0, read: s.read ?? 0 },
      ratePerSecond: Math.round(rate * 10) / 10,
      etaSeconds: rate > 0 && s.status === 'sending' ? Math.ceil(pending / rate) : null,
      ...(t.waitingReason ? { waitingReason: t.waitingReason } : s.status === 'paused' ? { waitingReason: 'paused' } : {}),
      pauseReason: s.pauseReason,
      at: new Date().toISOString(),
    };
  }

  forget(campaignId: string): void {
    const t = this.tracks.get(campaignId);
    if (t?.timer) clearTimeout(t.timer);
    this.tracks.delete(campaignId);
  }

  close(): void {
    for (const id of [...this.tracks.keys()]) this.forget(id);
  }
}
