import { randomUUID } from 'node:crypto';
import { setImmediate as turn } from 'node:timers/promises';
import type { Logger } from 'pino';
import { sql } from 'kysely';
import type { AppContext } from '../app-context.ts';
import { fixAudienceBatch, countAudience } from '../campaigns/audience.ts';
import { getCampaignById, transitionCampaign, toCampaign } from '../campaigns/campaigns-store.ts';
import { stateEvent } from '../campaigns/campaign-view.ts';
import { skipUnsentRecipients } from '../campaigns/recipient-outcomes.ts';
import { ChannelSender } from './channel-sender.ts';
import { DEFAULT_RETRY, type RetryPolicy } from './classify.ts';
import { OutcomeBuffer } from './outcome-buffer.ts';
import { completeIfDone, type CampaignState } from './outcome-writer.ts';
import { blockChannel } from './pacing.ts';
import { ProgressPublisher } from './progress.ts';
import { Metrics } from './metrics.ts';
import { recoverExpiredLeases } from './lease-recovery.ts';

export interface EngineOptions {
  /** Provider calls in flight per channel in this process (a channel's settings.concurrency overrides). */
  concurrency: number;
  /** How long a claim holds recipients; a dead worker's recipients are taken over after it. */
  leaseMs: number;
  /** Scheduler, channel discovery and sweep period. */
  tickMs: number;
  /** Sleep when a channel has sending campaigns but nothing is due. */
  idlePollMs: number;
  shutdownGraceMs: number;
  retry: RetryPolicy;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  concurrency: 32,
  leaseMs: 30_000,
  tickMs: 500,
  idlePollMs: 100,
  shutdownGraceMs: 15_000,
  retry: DEFAULT_RETRY,
};

/**
 * The delivery engine of one process. Loops (each catches, logs and carries on):
 * - tick (every 500 ms, on wake, and at the next scheduled time): start due scheduled campaigns,
 *   fix audiences, start a ChannelSender per channel with sending campaigns;
 * - sweep (every 2 s): recover expired leases, complete campaigns with nothing pending, skip what
 *   is left of cancelled campaigns;
 * - channel senders (channel-sender.ts) and the outcome writer (outcome-buffer.ts).
 */
export class Engine {
  readonly workerId = `w-${randomUUID()}`;
  readonly options: EngineOptions;
  readonly outcomes: OutcomeBuffer;
  readonly publisher: ProgressPublisher;
  readonly metrics: Metrics;
  readonly log: Logger;
  private readonly senders = new Map<string, ChannelSender>();
  private readonly fixing = new Set<string>();
  private tickTimer: NodeJS.Timeout | null = null;
  private scheduleTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping = false;
  private ticking: Promise<void> | null = null;
  private tickAgain = false;
  private running = false;
  private readonly lastStates = new Map<string, CampaignState>();

  constructor(
    readonly ctx: AppContext,
    options: Partial<EngineOptions> = {},
    metrics?: Metrics,
  ) {
    this.options = Object.freeze({ ...DEFAULT_ENGINE_OPTIONS, ...options });
    this.log = ctx.log.child({ component: 'engine', workerId: this.workerId });
    this.publisher = new ProgressPublisher(ctx.bus);
    this.metrics = metrics ?? new Metrics(ctx.db);
    this.outcomes = new OutcomeBuffer(ctx.db, this.workerId, this.log, (states) => this.onStates(states));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tickTimer = setInterval(() => this.wake(), this.options.tickMs);
    this.sweepTimer = setInterval(() => void this.sweep(), Math.max(1000, this.options.tickMs * 4));
    this.wake();
    void this.sweep();
  }

  /** Runs a tick soon (coalesced); called by the API after a send, schedule or resume. */
  wake(): void {
    if (!this.running) return;
    for (const s of this.senders.values()) s.wake();
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = this.tick()
      .catch((err) => this.log.error({ err }, 'engine tick failed'))
      .finally(() => {
        this.ticking = null;
        if (this.tickAgain && this.running) {
          this.tickAgain = false;
          this.wake();
        }
      });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of [this.tickTimer, this.sweepTimer]) if (t) clearInterval(t);
    if (this.scheduleTimer) clearTimeout(this.scheduleTimer);
    await this.ticking;
    await Promise.all([...this.senders.values()].map((s) => s.stop()));
    this.senders.clear();
    await this.outcomes.flush();
    this.publisher.close();
  }

  private async tick(): Promise<void> {
    await this.startDueCampaigns();
    const db = this.ctx.db;
    const sending = await db.k.selectFrom('campaigns').select(['id', 'channel_id', 'audience_fixed']).where('status', '=', 'sending').execute();
    for (const c of sending) {
      if (c.audience_fixed === 0) this.fixInBackground(c.id);
      if (!this.senders.has(c.channel_id)) {
        const sender = new ChannelSender(this, c.channel_id);
        this.senders.set(c.channel_id, sender);
        sender.start();
        void sender.done.finally(() => {
          if (this.senders.get(c.channel_id) === sender) this.senders.delete(c.channel_id);
        });
      }
    }
  }

  /** Scheduled campaigns whose time has come start sending; then a timer is set for the next one. */
  private async startDueCampaigns(): Promise<void> {
    const db = this.ctx.db;
    const now = Date.now();
    const due = await db.k.selectFrom('campaigns').selectAll().where('status', '=', 'scheduled').where('scheduled_at', '<=', now).limit(100).execute();
    for (const row of due) {
      const c = toCampaign(row);
      const size = await countAudience(db, c.workspaceId, c.channelId, c.audience);
      const started = size === 0
        ? await transitionCampaign(db, null, c.id, ['scheduled'], { status: 'failed', started_at: now, completed_at: now, status_reason: 'The audience was empty at the scheduled time', audience_fixed: 1 })
        : await transitionCampaign(db, null, c.id, ['scheduled'], { status: 'sending', started_at: now, consecutive_failures: 0 });
      if (!started) continue;
      this.log.info({ campaignId: c.id, delayMs: now - (c.scheduledAt ?? now), audience: size }, 'scheduled campaign started');
      this.ctx.bus.publish(stateEvent(started));
      if (size > 0) this.fixInBackground(c.id);
    }
    const next = await db.k.selectFrom('campaigns').select((eb) => eb.fn.min('scheduled_at').as('t')).where('status', '=', 'scheduled').executeTakeFirst();
    if (this.scheduleTimer) clearTimeout(this.scheduleTimer);
    this.scheduleTimer = null;
    const t = next?.t === null || next?.t === undefined ? null : Number(next.t);
    if (t !== null && t - Date.now() < this.options.tickMs * 2) {
      this.scheduleTimer = setTimeout(() => this.wake(), Math.max(0, t - Date.now()));
    }
  }

  private fixInBackground(campaignId: string): void {
    if (this.fixing.has(campaignId)) return;
    this.fixing.add(campaignId);
    void (async () => {
      try {
        const c = await getCampaignById(this.ctx.db, campaignId);
        if (!c) return;
        // A turn of the event loop between slices: each is synchronous on SQLite (tens of ms).
        while (this.running && !(await fixAudienceBatch(this.ctx.db, c))) await turn();
        if (await completeIfDone(this.ctx.db.k, campaignId)) this.publishCurrent(campaignId);
        else this.wake();
      } catch (err) {
        this.log.error({ err, campaignId }, 'fixing the audience failed; the next tick retries');
      } finally {
        this.fixing.delete(campaignId);
      }
    })();
  }

  private async sweep(): Promise<void> {
    // One sweep at a time: a sweep outliving its 2 s period (a slow recovery write on a loaded
    // database) must not start another that waits on the first's row locks — found by
    // bench:scale, where ten overlapping recoveries blocked the outcome writer until leases expired.
    if (!this.running || this.sweeping) return;
    this.sweeping = true;
    const db = this.ctx.db;
    try {
      const recovered = await recoverExpiredLeases(db);
      if (recovered.length) this.onStates(recovered);
      const candidates = await db.k.selectFrom('campaigns').select('id').where('status', '=', 'sending').where('audience_fixed', '=', 1)
        .where(sql<boolean>`total = sent + failed + skipped`).execute();
      for (const c of candidates) if (await completeIfDone(db.k, c.id)) this.publishCurrent(c.id);
      const cancelled = await db.k.selectFrom('campaigns').select('id').where('status', '=', 'cancelled')
        .where(sql<boolean>`total > sent + failed + skipped`).execute();
      for (const c of cancelled) if ((await skipUnsentRecipients(db, c.id, 'Campaign cancelled before this recipient was sent')) > 0) this.publishCurrent(c.id);
    } catch (err) {
      this.log.error({ err }, 'engine sweep failed');
    } finally {
      this.sweeping = false;
    }
  }

  private publishCurrent(campaignId: string): void {
    void getCampaignById(this.ctx.db, campaignId).then((c) => {
      if (!c) return;
      this.publisher.observe({ campaignId: c.id, workspaceId: c.workspaceId, status: c.status, ...c.stats, pauseReason: c.pauseReason });
    });
  }

  private onStates(states: CampaignState[]): void {
    for (const s of states) {
      this.lastStates.set(s.campaignId, s);
      this.publisher.observe(s);
      if (s.changedTo) {
        this.log.info({ campaignId: s.campaignId, status: s.changedTo, pauseReason: s.pauseReason }, 'campaign status changed');
        this.lastStates.delete(s.campaignId);
        for (const sender of this.senders.values()) sender.wake();
      }
    }
  }

  /** Shows why a campaign is waiting (provider rate limit) in its progress events. */
  setWaiting(campaignIds: string[], reason: string | undefined): void {
    for (const id of campaignIds) {
      const s = this.lastStates.get(id);
      if (s) this.publisher.observe(s, reason);
    }
  }

  channelRateLimited(channelId: string, until: number, campaignIds: string[]): void {
    void blockChannel(this.ctx.db, channelId, until).catch((err) => this.log.error({ err, channelId }, 'recording a provider rate limit failed'));
    this.setWaiting(campaignIds, 'rate_limited');
  }

  /** channel_auth: the campaign pauses at once, the reason says the credentials are invalid. */
  pauseForChannelAuth(campaignId: string, providerMessage: string): void {
    void (async () => {
      await this.outcomes.flush();
      const reason = `Channel credentials are invalid or expired: ${providerMessage}. Update the channel's credentials, then resume.`;
      const c = await transitionCampaign(this.ctx.db, null, campaignId, ['sending'], { status: 'paused', pause_reason: reason });
      if (c) {
        this.log.warn({ campaignId }, 'campaign paused: channel credentials invalid');
        this.publisher.observe({ campaignId: c.id, workspaceId: c.workspaceId, status: c.status, ...c.stats, pauseReason: c.pauseReason });
      }
    })().catch((err) => this.log.error({ err, campaignId }, 'pausing for channel_auth failed'));
  }
}
