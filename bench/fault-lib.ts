/**
 * What the fault and scale runs share: worker processes, and the reconciliation of what the
 * database says against what the mock provider received.
 */
import type { Db } from '../src/storage/db.ts';
import type { MockDump } from './lib.ts';

export { spawnWorker, kill } from '../test/helpers/worker-process.ts';

export interface Reconciliation {
  total: number;
  sent: number;
  failed: number;
  skipped: number;
  /** Failed as "delivery uncertain" (a call cut by a crash or timeout, no idempotency key). */
  uncertain: number;
  /** ...of which the provider did receive the message. */
  uncertainReceived: number;
  /** Failed for a retryable reason after the retry budget (5xx, timeout, network). */
  failedRetryable: number;
  /** Not final at the end, or marked sent without the provider having received it. */
  lost: number;
  /** Recipients the provider received more than once (different requests, not a deduplicated retry). */
  receivedTwice: number;
  /** Messages the provider received for someone who is not a recipient of the campaign. */
  strangers: number;
  /** Campaign counters equal the recipient rows, and sent + failed + skipped = total. */
  countersMatch: boolean;
  errorCodes: Record<string, number>;
}

export async function reconcile(db: Db, campaignId: string, dump: MockDump): Promise<Reconciliation> {
  const rows = await db.k.selectFrom('campaign_recipients').select(['provider_user_id', 'status', 'error_class', 'error_code']).where('campaign_id', '=', campaignId).execute();
  const c = await db.k.selectFrom('campaigns').select(['total', 'sent', 'failed', 'skipped']).where('id', '=', campaignId).executeTakeFirstOrThrow();
  const got = new Map<string, number>();
  for (const m of dump.received) got.set(m.recipient, (got.get(m.recipient) ?? 0) + 1);
  const r: Reconciliation = { total: rows.length, sent: 0, failed: 0, skipped: 0, uncertain: 0, uncertainReceived: 0, failedRetryable: 0, lost: 0, receivedTwice: 0, strangers: 0, countersMatch: false, errorCodes: {} };
  const mine = new Set<string>();
  for (const row of rows) {
    mine.add(row.provider_user_id);
    const n = got.get(row.provider_user_id) ?? 0;
    if (n > 1) r.receivedTwice++;
    if (row.status === 'sent') {
      r.sent++;
      if (n === 0) r.lost++;
    } else if (row.status === 'failed') {
      r.failed++;
      r.errorCodes[row.error_code ?? '?'] = (r.errorCodes[row.error_code ?? '?'] ?? 0) + 1;
      if (row.error_code === 'delivery_uncertain') {
        r.uncertain++;
        if (n > 0) r.uncertainReceived++;
      } else if (row.error_class === 'transient') r.failedRetryable++;
    } else if (row.status === 'skipped') r.skipped++;
    else r.lost++;
  }
  for (const rcpt of got.keys()) if (!mine.has(rcpt)) r.strangers++;
  r.countersMatch = c.total === rows.length && c.sent === r.sent && c.failed === r.failed && c.skipped === r.skipped && c.sent + c.failed + c.skipped === c.total;
  return r;
}

/** The most messages received within any 1,000 ms sliding window. */
export function maxPerSecond(times: number[]): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < t.length; hi++) {
    while (t[hi] - t[lo] >= 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
