import { createHash } from 'node:crypto';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import { loadChannelRuntime, setChannelStatus } from '../channels/channels-store.ts';
import { getAdapter } from '../providers/registry.ts';
import type { ChannelRuntime, MessageContent, ProviderAdapter, SendOutcome } from '../providers/types.ts';
import { recipientVariables, renderMessage } from '../campaigns/render.ts';
import { claimRecipients, releaseUnstarted, type ClaimedRecipient } from './recipient-claims.ts';
import { releaseSlots, reserveSlots } from './pacing.ts';
import { classify } from './classify.ts';
import type { Engine } from './engine.ts';

interface ActiveCampaign {
  id: string;
  workspaceId: string;
  message: MessageContent;
  threshold: number;
  /** Consecutive failures seen by this worker since the last refresh (plus the stored count). */
  consecutive: number;
  /** Set the moment this worker records the threshold-th consecutive failure: no new sends start. */
  halted: boolean;
  /** When it was halted (Date.now()). */
  haltedAt: number;
}

/** A stable UUID per recipient, reused on every retry (LINE's X-Line-Retry-Key). */
export function idempotencyKey(campaignId: string, recipientId: number): string {
  const h = createHash('sha256').update(`${campaignId}:${recipientId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Claims per cycle are at most this many (one claim UPDATE per ≤ 200 sends). */
const MAX_CLAIM = 200;
/** Slots reserved per cycle cover about this much time at the channel's rate. */
const CYCLE_MS = 200;
const REFRESH_MS = 500;
const IDLE_EXIT_MS = 5000;
/** How long a halt (auto-pause threshold reached, channel_auth) survives refreshes, waiting for its pause to commit. */
const HALT_HOLD_MS = 5000;

/**
 * One channel's send loop in this process. Each cycle: reserve pacing slots (shared with every
 * other worker through the database) → wait for the first slot → claim that many due recipients
 * (lease + attempt recorded) → start each send at its slot, at most `concurrency` in flight →
 * hand each answer to the engine's outcome writer. Loop states: RUNNING ⇄ WAITING (no capacity,
 * no due recipient, provider back-off) → IDLE (no sending campaign for 5 s: the loop ends and the
 * engine starts a new one when work appears) or STOPPING (shutdown: in-flight sends finish).
 */
export class ChannelSender {
  private campaigns: ActiveCampaign[] = [];
  private runtime: (ChannelRuntime & { rateLimitPerSecond: number }) | null = null;
  private adapter: ProviderAdapter | null = null;
  private refreshedAt = 0;
  private runtimeAt = 0;
  private inFlight = 0;
  private rotation = 0;
  private readonly notStarted = new Map<number, NodeJS.Timeout>();
  /** Per campaign: when the latest-started send that succeeded was started (performance.now()). */
  private readonly lastOkStart = new Map<string, number>();
  private starts = new Float64Array(0);
  private startIdx = 0;
  private waker: (() => void) | null = null;
  private stopping = false;
  private readonly abort = new AbortController();
  done: Promise<void> = Promise.resolve();

  constructor(
    private readonly engine: Engine,
    readonly channelId: string,
  ) {}

  start(): void {
    this.done = this.loop().catch((err) => this.engine.log.error({ err, channelId: this.channelId }, 'channel sender crashed'));
  }

  wake(): void {
    this.refreshedAt = 0;
    this.waker?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.waker?.();
    await this.done;
  }

  private async nap(ms: number): Promise<void> {
    if (this.stopping) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.waker = done;
    });
    this.waker = null;
  }

  private async refresh(): Promise<void> {
    const now = Date.now();
    const stamp = await this.engine.ctx.db.k.selectFrom('channels').select('updated_at').where('id', '=', this.channelId).executeTakeFirst();
    // Reload credentials, settings and rate whenever the channel was edited (e.g. new credentials).
    if (!this.runtime || stamp?.updated_at !== this.runtimeAt) {
      const rt = await loadChannelRuntime(this.engine.ctx.db, this.engine.ctx.config.secretKey, this.channelId);
      this.runtime = rt && !rt.deleted ? rt : null;
      this.adapter = this.runtime ? getAdapter(this.runtime.provider) : null;
      this.runtimeAt = stamp?.updated_at ?? 0;
    }
    const rows = await this.engine.ctx.db.k
      .selectFrom('campaigns')
      .innerJoin('workspaces', 'workspaces.id', 'campaigns.workspace_id')
      .select(['campaigns.id', 'campaigns.workspace_id', 'campaigns.message', 'campaigns.consecutive_failures', 'workspaces.auto_pause_threshold'])
      .where('campaigns.channel_id', '=', this.channelId)
      .where('campaigns.status', '=', 'sending')
      .where('campaigns.audience_fixed', 'in', [0, 1])
      .orderBy('campaigns.started_at')
      .execute();
    const previous = new Map(this.campaigns.map((c) => [c.id, c]));
    this.campaigns = rows.map((r) => {
      const prev = previous.get(r.id);
      // A halt holds until the pause it leads to is committed (the campaign then leaves this
      // list). A refresh in between must not lift it, or one more send starts after the
      // threshold-th failure. If the campaign is still sending well after, the pause did not
      // happen (another worker's success reset the count) or it was resumed: send again.
      const halted = prev?.halted === true && now - prev.haltedAt < HALT_HOLD_MS;
      return {
        id: r.id, workspaceId: r.workspace_id, message: JSON.parse(r.message) as MessageContent, threshold: r.auto_pause_threshold,
        // Our own in-memory count may be ahead of the stored one until the outcome writer flushes.
        consecutive: Math.max(r.consecutive_failures, halted ? prev.consecutive : 0),
        halted,
        haltedAt: halted ? prev.haltedAt : 0,
      };
    });
    this.refreshedAt = now;
  }

  private async loop(): Promise<void> {
    let idleSince = Date.now();
    while (!this.stopping) {
      // One turn of the event loop per cycle. On SQLite every query is synchronous, and a
      // provider that answers without I/O (the simulator at zero latency) resolves at once: the
      // loop would otherwise be one chain of promise callbacks that starves timers, HTTP and
      // WebSocket traffic until the campaign is sent (12 s for 100,000 recipients, measured).
      await turn();
      if (Date.now() - this.refreshedAt > REFRESH_MS) await this.refresh();
      const active = this.campaigns.filter((c) => !c.halted);
      if (!this.runtime || !this.adapter || active.length === 0) {
        if (Date.now() - idleSince > IDLE_EXIT_MS) break;
        await this.nap(REFRESH_MS);
        continue;
      }
      const concurrency = typeof this.runtime.settings.concurrency === 'number' ? this.runtime.settings.concurrency : this.engine.options.concurrency;
      const capacity = concurrency - this.inFlight;
      const rate = this.runtime.rateLimitPerSecond;
      const perCycle = Math.max(1, Math.min(MAX_CLAIM, Math.ceil((rate * CYCLE_MS) / 1000)));
      // Claim in batches: waiting until a quarter of the window is free (instead of claiming one
      // recipient per finished call) cut database writes per recipient from ~2 to ~0.1 against a
      // zero-latency provider. Each finished send wakes this loop.
      if (capacity <= 0 || (this.inFlight > 0 && capacity < Math.min(perCycle, Math.ceil(concurrency / 4)))) {
        await this.nap(REFRESH_MS);
        continue;
      }
      const k = Math.min(capacity, perCycle);
      const slots = await reserveSlots(this.engine.ctx.db, this.channelId, rate, k);
      const wait = slots.start - Date.now();
      if (wait > 0) {
        if (wait > 1000) this.engine.setWaiting(active.map((c) => c.id), 'rate_limited');
        await sleep(wait, undefined, { signal: this.abort.signal }).catch(() => undefined);
        if (this.stopping) {
          await releaseSlots(this.engine.ctx.db, this.channelId, slots, k);
          break;
        }
      }
      const claimed = await this.claim(active, k);
      if (claimed.length < k) await releaseSlots(this.engine.ctx.db, this.channelId, slots, k - claimed.length);
      if (claimed.length === 0) {
        await this.nap(this.engine.options.idlePollMs);
        continue;
      }
      idleSince = Date.now();
      this.engine.setWaiting(active.map((c) => c.id), undefined);
      const byId = new Map(active.map((c) => [c.id, c]));
      claimed.forEach((r, i) => {
        this.inFlight++;
        const at = slots.start + i * slots.interval - Date.now();
        const campaign = byId.get(r.campaignId)!;
        if (at <= 1) void this.send(campaign, r);
        else {
          const t = setTimeout(() => {
            this.notStarted.delete(r.id);
            void this.send(campaign, r);
          }, at);
          this.notStarted.set(r.id, t);
        }
      });
    }
    await this.drain();
  }

  private async claim(active: ActiveCampaign[], k: number): Promise<ClaimedRecipient[]> {
    const out: ClaimedRecipient[] = [];
    const n = active.length;
    for (let i = 0; i < n && out.length < k; i++) {
      const c = active[(this.rotation + i) % n];
      out.push(...(await claimRecipients(this.engine.ctx.db, c.id, this.engine.workerId, k - out.length, this.engine.options.leaseMs)));
    }
    this.rotation++;
    return out;
  }

  /**
   * A second guard after GCRA: at most `rate` sends started by this process in any sliding
   * second. Timers that fire late bunch sends together; measured at 1,000/s without this guard,
   * the busiest second held 1,022 sends and a provider counting per second answered 429s.
   */
  private async spaceOut(): Promise<void> {
    const rate = Math.floor(this.runtime?.rateLimitPerSecond ?? 0);
    if (rate < 1 || rate > 20_000) return;
    if (this.starts.length !== rate) {
      this.starts = new Float64Array(rate);
      this.startIdx = 0;
    }
    for (;;) {
      const oldest = this.starts[this.startIdx];
      const now = performance.timeOrigin + performance.now();
      if (now - oldest >= 1000) {
        this.starts[this.startIdx] = now;
        this.startIdx = (this.startIdx + 1) % rate;
        return;
      }
      await sleep(oldest + 1000 - now + 0.5);
    }
  }

  private async send(campaign: ActiveCampaign, r: ClaimedRecipient): Promise<void> {
    try {
      await this.spaceOut();
      if (campaign.halted || this.stopping) {
        await releaseUnstarted(this.engine.ctx.db, this.engine.workerId, [r.id]);
        return;
      }
      const runtime = this.runtime!;
      const adapter = this.adapter!;
      let outcome: SendOutcome;
      const started = performance.now();
      try {
        const message = renderMessage(campaign.message, recipientVariables(r.name, JSON.parse(r.variables) as Record<string, unknown>));
        outcome = await adapter.send({ channel: runtime, providerUserId: r.providerUserId, message, idempotencyKey: idempotencyKey(r.campaignId, r.id) });
      } catch (err) {
        outcome = { ok: false, errorClass: 'transient', code: 'adapter_error', message: (err as Error).message };
      }
      this.engine.metrics.observeSend(runtime.provider, this.channelId, outcome, (performance.now() - started) / 1000);
      const verdict = classify(r, outcome, adapter.supportsIdempotencyKey, this.engine.options.retry);
      const res = verdict.result;
      if (res.kind === 'sent') {
        campaign.consecutive = 0;
        this.lastOkStart.set(campaign.id, Math.max(this.lastOkStart.get(campaign.id) ?? 0, started));
      } else if (res.kind === 'failed' && started < (this.lastOkStart.get(campaign.id) ?? 0)) {
        // "Consecutive" is in send order: a send started after this one has already succeeded,
        // so this failure (a slow timeout landing late, typically while in-flight calls drain at
        // a pause or the end) is not part of a run of failures and says nothing about the channel.
        res.countsTowardPause = false;
      } else if (res.kind === 'failed') {
        campaign.consecutive++;
        if (campaign.consecutive >= campaign.threshold && !campaign.halted) {
          // Recipients whose slot has not come yet see `halted` and are given back unsent.
          campaign.halted = true;
          campaign.haltedAt = Date.now();
        }
      }
      if (verdict.channelAuth === true && !campaign.halted) {
        campaign.halted = true;
        campaign.haltedAt = Date.now();
        await setChannelStatus(this.engine.ctx.db, this.channelId, 'auth_failed', verdict.message);
        this.engine.pauseForChannelAuth(campaign.id, verdict.message);
      }
      if (verdict.channelAuth !== true && verdict.rateLimitedUntil) this.engine.channelRateLimited(this.channelId, verdict.rateLimitedUntil, [campaign.id]);
      this.engine.outcomes.add(res, campaign.halted);
    } catch (err) {
      this.engine.log.error({ err, recipientId: r.id }, 'recording a send failed; the lease will expire and recovery takes over');
    } finally {
      this.inFlight--;
      if (this.inFlight < 0) this.inFlight = 0;
      this.waker?.();
    }
  }

  private async drain(): Promise<void> {
    const unstarted = [...this.notStarted.keys()];
    for (const t of this.notStarted.values()) clearTimeout(t);
    this.notStarted.clear();
    this.inFlight -= unstarted.length;
    await releaseUnstarted(this.engine.ctx.db, this.engine.workerId, unstarted).catch((err) => this.engine.log.error({ err }, 'releasing unstarted recipients failed'));
    const deadline = Date.now() + this.engine.options.shutdownGraceMs;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(20);
  }
}
