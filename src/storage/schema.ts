import type { Generated } from 'kysely';

/**
 * Table shapes shared by both backends. Portable column types only: times are epoch
 * milliseconds (bigint), booleans are 0/1 integers, JSON is text. That keeps one set of queries
 * for SQLite and PostgreSQL; the few real differences live in `Db.flags`.
 */
export interface WorkspaceTable {
  id: string;
  name: string;
  auto_pause_threshold: number;
  created_at: number;
}

export interface ApiKeyTable {
  id: string;
  workspace_id: string;
  name: string;
  key_hash: string;
  prefix: string;
  role: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface ChannelTable {
  id: string;
  workspace_id: string;
  name: string;
  provider: string;
  credentials_enc: string;
  rate_limit_per_second: number;
  settings: string;
  status: string;
  status_message: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface ChannelPacingTable {
  channel_id: string;
  /** GCRA theoretical arrival time: the next free send slot, epoch ms (fractional). */
  tat: number;
  /** Until when the provider asked us to wait (a 429), epoch ms. */
  blocked_until: number;
}

export interface ContactTable {
  id: string;
  workspace_id: string;
  name: string;
  attributes: string;
  created_at: number;
  updated_at: number;
}

export interface ContactTagTable {
  workspace_id: string;
  contact_id: string;
  tag: string;
}

export interface IdentityTable {
  id: string;
  workspace_id: string;
  contact_id: string;
  channel_id: string;
  provider_user_id: string;
  opted_out: number;
  opted_out_at: number | null;
  created_at: number;
}

export interface CampaignTable {
  id: string;
  workspace_id: string;
  name: string;
  status: string;
  channel_id: string;
  message: string;
  audience: string;
  scheduled_at: number | null;
  started_at: number | null;
  completed_at: number | null;
  created_at: number;
  updated_at: number;
  pause_reason: string | null;
  status_reason: string | null;
  parent_campaign_id: string | null;
  total: number;
  sent: number;
  failed: number;
  skipped: number;
  delivered: number;
  read: number;
  consecutive_failures: number;
  /** 1 once every audience member has a recipient row. */
  audience_fixed: number;
  /** Keyset cursor (last contact id) of the audience fixing, so a crash resumes it. */
  audience_cursor: string | null;
}

export interface RecipientTable {
  id: Generated<number>;
  campaign_id: string;
  contact_id: string;
  identity_id: string;
  provider_user_id: string;
  name: string;
  variables: string;
  status: string;
  error_class: string | null;
  error_code: string | null;
  error_message: string | null;
  provider_message_id: string | null;
  attempts: number;
  transient_failures: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  attempt_started_at: number | null;
  next_attempt_at: number;
  sent_at: number | null;
  failed_at: number | null;
  delivered_at: number | null;
  read_at: number | null;
}

export interface WebhookEventTable {
  channel_id: string;
  dedupe_key: string;
  received_at: number;
}

export interface UserTable {
  id: string;
  workspace_id: string;
  email: string;
  name: string;
  /** `scrypt$N$r$p$salt$hash` (accounts/passwords.ts). */
  password_hash: string;
  role: string;
  /** 1 while the user signs in with a generated one-time password. */
  must_change_password: number;
  created_at: number;
  last_login_at: number | null;
  disabled_at: number | null;
}

export interface SessionTable {
  /** SHA-256 (hex) of the cookie's token. */
  id: string;
  user_id: string;
  expires_at: number;
  created_at: number;
}

export interface Schema {
  workspaces: WorkspaceTable;
  api_keys: ApiKeyTable;
  channels: ChannelTable;
  channel_pacing: ChannelPacingTable;
  contacts: ContactTable;
  contact_tags: ContactTagTable;
  identities: IdentityTable;
  campaigns: CampaignTable;
  campaign_recipients: RecipientTable;
  webhook_events: WebhookEventTable;
  users: UserTable;
  sessions: SessionTable;
}
