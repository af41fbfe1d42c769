/**
 * The campaign lifecycle, in one place (PRODUCT.md's table):
 *
 *   draft ──send──▶ sending ──(engine: nothing pending)──▶ sent | failed | partial
 *     │  ▲            │  ▲
 *  schedule│cancel  pause│resume (also auto-pause: 5 consecutive failures, channel_auth)
 *     ▼  │            ▼  │
 *   scheduled ─send / due time─▶ sending        sending | paused ──cancel──▶ cancelled
 *
 * - draft: edit, send, schedule, delete
 * - scheduled: edit, schedule (reschedule), cancel (→ draft), send
 * - sending: pause, cancel
 * - paused: resume, cancel
 * - sent: export · failed, partial: retry-failed, export · cancelled: export
 */
export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'sending', 'paused', 'sent', 'failed', 'partial', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export type CampaignAction = 'edit' | 'delete' | 'send' | 'schedule' | 'cancel' | 'pause' | 'resume' | 'retry-failed';

const ALLOWED: Record<CampaignAction, readonly CampaignStatus[]> = {
  edit: ['draft', 'scheduled'],
  delete: ['draft'],
  send: ['draft', 'scheduled'],
  schedule: ['draft', 'scheduled'],
  cancel: ['scheduled', 'sending', 'paused'],
  pause: ['sending'],
  resume: ['paused'],
  'retry-failed': ['failed', 'partial'],
};

export const FINAL_STATUSES: readonly CampaignStatus[] = ['sent', 'failed', 'partial', 'cancelled'];

export function allowedStatuses(action: CampaignAction): readonly CampaignStatus[] {
  return ALLOWED[action];
}

export function isAllowed(action: CampaignAction, status: CampaignStatus): boolean {
  return ALLOWED[action].includes(status);
}

/** The actions a campaign in this status offers (shown by the API and the UI). */
export function actionsFor(status: CampaignStatus): CampaignAction[] {
  return (Object.keys(ALLOWED) as CampaignAction[]).filter((a) => ALLOWED[a].includes(status));
}

/** The final status follows from the counts: Sent if nothing failed, Failed if nothing was sent. */
export function finalStatus(counts: { sent: number; failed: number }): 'sent' | 'failed' | 'partial' {
  if (counts.failed === 0) return 'sent';
  if (counts.sent === 0) return 'failed';
  return 'partial';
}
