import type { AppContext } from '../app-context.ts';
import { getCampaignById } from '../campaigns/campaigns-store.ts';
import { stateEvent } from '../campaigns/campaign-view.ts';
import { loadChannelRuntime } from '../channels/channels-store.ts';
import { MAX_NAME, MAX_PROVIDER_USER_ID } from '../contacts/contact-schemas.ts';
import { setOptOut } from '../contacts/contacts-store.ts';
import { upsertContacts } from '../contacts/contacts-upsert.ts';
import { getWebhook } from '../providers/registry.ts';
import type { ProviderName } from '../providers/types.ts';
import {
  WebhookParseError, type HandshakeResult, type MemberEvent, type OptInEvent, type OptOutEvent, type ProviderWebhook,
  type ReadWatermarkEvent, type ReceiptEvent, type WebhookEvent, type WebhookRequest,
} from '../providers/webhook-types.ts';
import { ReceiptRetrier } from './receipt-retry.ts';
import { applyReadWatermark, applyReceipt, CounterDeltas, forgetWebhookEvent, hasInFlightSends, pruneWebhookEvents, recordWebhookEvent } from './webhook-store.ts';

/**
 * Inbound provider webhooks, from the raw request to the database: find the channel, verify the
 * provider's signature with the channel's credentials, parse to normalized events, apply each
 * event once (dedupe keys in `webhook_events`) and publish progress for the campaigns touched.
 *
 * - member / opt_in / opt_out go through the contacts module (its own transactions), one event
 *   at a time in payload order (LINE `follow` is a member then an opt-in);
 * - receipts and read watermarks of one webhook are applied in one transaction.
 */

export interface WebhookChannel {
  id: string;
  workspaceId: string;
  provider: ProviderName;
  credentials: Record<string, unknown>;
  webhook: ProviderWebhook;
}

export type WebhookOutcome =
  | { kind: 'not_found' }
  | { kind: 'unauthorized' }
  | { kind: 'invalid'; message: string }
  | { kind: 'ok'; provider: ProviderName; events: number; applied: number };

/** How long dedupe records are kept: Meta retries for up to 7 days, Telegram and LINE far less. */
export const DEDUPE_RETENTION_MS = 14 * 24 * 3600_000;

type ContactEvent = MemberEvent | OptInEvent | OptOutEvent;
type DeliveryEvent = ReceiptEvent | ReadWatermarkEvent;

const isPgError = (err: unknown, code: string) => typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;

const NUL = '\u0000';
const noNul = (s: string | undefined) => (s === undefined ? undefined : s.replaceAll(NUL, ''));

/** Epoch milliseconds a bigint column takes: whole, not negative, finite; else the time of arrival. */
function storableTime(ms: number, receivedAt: number): number {
  return Number.isFinite(ms) ? Math.min(Math.max(0, Math.floor(ms)), Number.MAX_SAFE_INTEGER) : receivedAt;
}

/**
 * Parsed events as the database can take them, whatever the signed payload held: an event whose
 * ids (user, message, dedupe key) contain NUL is dropped (PostgreSQL text cannot hold NUL, and
 * removing it would name another user or message), NUL is removed from names and error texts, and
 * times that are fractional, negative or beyond any date (1e300, or 1e400 parsed as Infinity)
 * become whole epoch milliseconds. Without this a provider retries the webhook forever on a 500.
 */
function storable(events: WebhookEvent[], receivedAt: number): WebhookEvent[] {
  const out: WebhookEvent[] = [];
  for (const e of events) {
    const ids = [e.dedupeKey, 'providerUserId' in e ? e.providerUserId : '', 'providerMessageId' in e ? e.providerMessageId : ''];
    if (ids.some((id) => id.includes(NUL))) continue;
    if (e.kind === 'member') out.push(e.name === undefined ? e : { ...e, name: noNul(e.name) });
    else if (e.kind === 'receipt') out.push({ ...e, at: storableTime(e.at, receivedAt), errorCode: noNul(e.errorCode), errorMessage: noNul(e.errorMessage) });
    else if (e.kind === 'read_watermark') out.push({ ...e, watermark: storableTime(e.watermark, receivedAt) });
    else out.push(e);
  }
  return out;
}

export class WebhookReceiver {
  readonly retrier: ReceiptRetrier;

  constructor(private readonly ctx: AppContext) {
    this.retrier = new ReceiptRetrier((channelId, receipts) => this.applyDeliveries(channelId, receipts).then((r) => r.retry), ctx.log.child({ component: 'webhooks' }));
  }

  /** The channel a webhook URL names, if it exists, is not deleted and its provider sends webhooks. */
  async channel(channelId: string): Promise<WebhookChannel | null> {
    // PostgreSQL cannot compare text with a NUL in it: such an id names no channel.
    if (channelId.length === 0 || channelId.length > 100 || channelId.includes('\u0000')) return null;
    const runtime = await loadChannelRuntime(this.ctx.db, this.ctx.config.secretKey, channelId);
    if (!runtime || runtime.deleted) return null;
    const webhook = getWebhook(runtime.provider);
    if (!webhook) return null;
    return { id: runtime.id, workspaceId: runtime.workspaceId, provider: runtime.provider, credentials: runtime.credentials, webhook };
  }

  /** Meta's GET subscription handshake; null when the channel is unknown or its provider has none. */
  async handshake(channelId: string, query: Record<string, unknown>): Promise<HandshakeResult | null> {
    const channel = await this.channel(channelId);
    if (!channel?.webhook.handshake) return null;
    return channel.webhook.handshake(query, channel.credentials);
  }

  async receive(channelId: string, req: WebhookRequest): Promise<WebhookOutcome> {
    const channel = await this.channel(channelId);
    if (!channel) return { kind: 'not_found' };
    if (!channel.webhook.verify({ ...req, credentials: channel.credentials })) return { kind: 'unauthorized' };
    let events: WebhookEvent[];
    const receivedAt = Date.now();
    try {
      events = storable(channel.webhook.parse({ ...req, receivedAt }), receivedAt);
    } catch (err) {
      if (err instanceof WebhookParseError) return { kind: 'invalid', message: err.message };
      throw err;
    }
    const applied = await this.process(channel, events);
    return { kind: 'ok', provider: channel.provider, events: events.length, applied };
  }

  /** Applies parsed events; returns how many were new (not duplicates, not unmatched). */
  async process(channel: Pick<WebhookChannel, 'id' | 'workspaceId'>, events: WebhookEvent[]): Promise<number> {
    let applied = 0;
    for (const e of events) {
      if (e.kind === 'member' || e.kind === 'opt_in' || e.kind === 'opt_out') {
        if (await this.applyContactEvent(channel, e)) applied++;
      }
    }
    const deliveries = events.filter((e): e is DeliveryEvent => e.kind === 'receipt' || e.kind === 'read_watermark');
    if (deliveries.length > 0) {
      const result = await this.applyDeliveries(channel.id, deliveries);
      applied += result.applied;
      this.retrier.defer(channel.id, result.retry);
    }
    return applied;
  }

  /** Records the event, then applies it; a failure forgets the record so a redelivery applies it. */
  private async applyContactEvent(channel: Pick<WebhookChannel, 'id' | 'workspaceId'>, e: ContactEvent): Promise<boolean> {
    const userId = e.providerUserId.trim();
    if (userId === '' || userId.length > MAX_PROVIDER_USER_ID) return false;
    const db = this.ctx.db;
    if (!(await recordWebhookEvent(db.k, channel.id, e.dedupeKey))) return false;
    try {
      if (e.kind === 'member') {
        const name = e.name?.trim().slice(0, MAX_NAME) || undefined;
        const upsert = () => upsertContacts(db, channel.workspaceId, [{ name, identities: [{ channelId: channel.id, providerUserId: userId }] }], new Set([channel.id]));
        // Two first messages of the same user at once both try to create the identity; the
        // loser's second attempt finds it and updates instead.
        await upsert().catch((err: unknown) => (isPgError(err, '23505') ? upsert() : Promise.reject(err)));
      } else {
        await setOptOut(db, channel.id, userId, e.kind === 'opt_out');
      }
      return true;
    } catch (err) {
      await forgetWebhookEvent(db.k, channel.id, e.dedupeKey).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Receipts and watermarks in one transaction (retried on a PostgreSQL deadlock with the
   * engine's counter writes). Unmatched receipts are returned for a retry only when a send on
   * the channel is in flight; checked before the transaction, so a send answer committed in
   * between is seen by the match.
   */
  async applyDeliveries(channelId: string, events: DeliveryEvent[]): Promise<{ applied: number; retry: ReceiptEvent[] }> {
    const db = this.ctx.db;
    const inFlight = await hasInFlightSends(db.k, channelId);
    for (let attempt = 1; ; attempt++) {
      try {
        const deltas = new CounterDeltas();
        const outcome = await db.k.transaction().execute(async (tx) => {
          let applied = 0;
          const unmatched: ReceiptEvent[] = [];
          for (const e of events) {
            const r = e.kind === 'receipt' ? await applyReceipt(tx, channelId, e, deltas) : await applyReadWatermark(tx, channelId, e, deltas);
            if (r === 'applied') applied++;
            else if (r === 'unmatched' && e.kind === 'receipt') unmatched.push(e);
          }
          await deltas.apply(tx);
          return { applied, retry: inFlight ? unmatched : [] };
        });
        await this.publish(deltas.campaignIds);
        return outcome;
      } catch (err) {
        if (attempt >= 3 || !isPgError(err, '40P01')) throw err;
      }
    }
  }

  private async publish(campaignIds: string[]): Promise<void> {
    for (const id of campaignIds) {
      const c = await getCampaignById(this.ctx.db, id);
      if (c) this.ctx.bus.publish(stateEvent(c));
    }
  }

  /** Drops dedupe records past the retention (called periodically by the HTTP layer). */
  prune(now = Date.now()): Promise<number> {
    return pruneWebhookEvents(this.ctx.db.k, now - DEDUPE_RETENTION_MS);
  }

  close(): void {
    this.retrier.close();
  }
}
