import type { CampaignStatus } from '../campaigns/lifecycle.ts';

export interface CampaignStats {
  total: number;
  sent: number;
  failed: number;
  skipped: number;
  pending: number;
  delivered: number;
  read: number;
}

/** The one live event of a campaign; the WebSocket streams it as is. */
export interface ProgressEvent {
  type: 'campaign.progress';
  workspaceId: string;
  campaignId: string;
  status: CampaignStatus;
  stats: CampaignStats;
  ratePerSecond: number;
  etaSeconds: number | null;
  waitingReason?: string;
  pauseReason?: string | null;
  at: string;
}

export interface EventBus {
  publish(event: ProgressEvent): void;
  /** Calls `fn` for every event of the workspace (campaignId `*`) or of one campaign. Returns unsubscribe. */
  subscribe(workspaceId: string, campaignId: string, fn: (e: ProgressEvent) => void): () => void;
  close(): Promise<void>;
}
