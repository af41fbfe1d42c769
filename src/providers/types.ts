/**
 * The contract between the delivery engine and every messaging provider.
 *
 * An adapter turns one rendered message for one recipient (or a batch, where the provider has a
 * multicast endpoint) into an HTTP call and maps the answer to a typed outcome. It never throws
 * for a provider answer: every answer, including network errors and timeouts, becomes a
 * `SendOutcome`. The engine decides what each outcome means for the recipient and the campaign.
 */

export const PROVIDERS = ['simulator', 'whatsapp', 'line', 'telegram', 'messenger', 'twilio'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export const FAILURE_CLASSES = [
  'invalid_recipient',
  'recipient_blocked',
  'rate_limited',
  'channel_auth',
  'content_rejected',
  'transient',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** Message content after placeholders were filled for one recipient. */
export type RenderedMessage =
  | { type: 'text'; text: string }
  | { type: 'image'; url: string; caption?: string }
  | { type: 'template'; template: { name: string; language: string; components: unknown[] } };

/** Message content as stored on a campaign (placeholders not yet filled). */
export type MessageContent = RenderedMessage;

export interface ChannelRuntime {
  id: string;
  provider: ProviderName;
  /** Decrypted credentials; never logged. */
  credentials: Record<string, unknown>;
  settings: Record<string, unknown>;
}

export interface SendRequest {
  channel: ChannelRuntime;
  providerUserId: string;
  message: RenderedMessage;
  /** Stable per recipient across retries; sent where the provider supports one (LINE). */
  idempotencyKey: string;
  signal?: AbortSignal;
}

export type SendOutcome =
  | { ok: true; providerMessageId: string | null }
  | {
      ok: false;
      errorClass: FailureClass;
      /** The provider's own error code, as a string (`131026`, `400`, `21211`). */
      code: string | null;
      message: string;
      /** Milliseconds the provider asked us to wait, where it said. */
      retryAfterMs?: number;
    };

export interface BatchSendRequest {
  channel: ChannelRuntime;
  providerUserIds: string[];
  message: RenderedMessage;
  idempotencyKey: string;
  signal?: AbortSignal;
}

export type TestConnectionResult = { ok: true; details?: Record<string, unknown> } | { ok: false; errorClass: FailureClass; code: string | null; message: string };

export interface ProviderAdapter {
  readonly name: ProviderName;
  /** The provider's documented default sending rate (messages per second). */
  readonly defaultRatePerSecond: number;
  /**
   * True when a repeated call with the same idempotency key is never delivered twice (LINE's
   * X-Line-Retry-Key). The engine then re-sends a recipient whose outcome was lost in a crash;
   * without it such a recipient ends as "delivery uncertain".
   */
  readonly supportsIdempotencyKey: boolean;
  /** Largest batch `sendBatch` takes; absent when the provider has no batch endpoint. */
  readonly maxBatchSize?: number;
  /** Checks provider limits on message content; returns human messages, empty when valid. */
  validateMessage(message: MessageContent): string[];
  /** Checks a channel's credentials object has the fields this provider needs. */
  validateCredentials(credentials: Record<string, unknown>): string[];
  send(req: SendRequest): Promise<SendOutcome>;
  /** One outcome for the whole batch (the provider accepts or refuses a multicast as a whole). */
  sendBatch?(req: BatchSendRequest): Promise<SendOutcome>;
  testConnection(channel: ChannelRuntime): Promise<TestConnectionResult>;
}
