import { z } from 'zod';

const httpUrl = z.string().max(2000).refine((s) => { try { const u = new URL(s); return u.protocol === 'https:' || u.protocol === 'http:'; } catch { return false; } }, 'must be an http(s) URL');

export const messageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), text: z.string().min(1).max(20_000) }),
  z.strictObject({ type: z.literal('image'), url: httpUrl, caption: z.string().max(10_000).optional() }),
  z.strictObject({
    type: z.literal('template'),
    template: z.strictObject({
      name: z.string().min(1).max(512),
      language: z.string().min(2).max(20),
      components: z.array(z.record(z.string(), z.unknown())).max(20).default([]),
    }),
  }),
]);

export const audienceSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('all') }),
  z.strictObject({ type: z.literal('tags'), tags: z.array(z.string().trim().min(1).max(64)).min(1).max(100) }),
]);

/** Audience of a retry campaign: the failed recipients of its parent (set by retry-failed only). */
export type Audience = z.infer<typeof audienceSchema> | { type: 'failed_recipients'; campaignId: string; onlyRetryable: boolean };

const isoDate = z.iso.datetime({ offset: true });

export const campaignCreate = z.strictObject({
  name: z.string().trim().min(1).max(200),
  channelId: z.string().min(1).max(100),
  message: messageSchema,
  audience: audienceSchema,
  scheduledAt: isoDate.optional(),
});

export const campaignPatch = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  channelId: z.string().min(1).max(100).optional(),
  message: messageSchema.optional(),
  audience: audienceSchema.optional(),
  scheduledAt: isoDate.optional(),
});

export const scheduleBody = z.strictObject({ scheduledAt: isoDate });
export const retryFailedBody = z.strictObject({ onlyRetryable: z.boolean().default(false) });

export const campaignListQuery = z.strictObject({
  status: z.enum(['draft', 'scheduled', 'sending', 'paused', 'sent', 'failed', 'partial', 'cancelled']).optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const recipientListQuery = z.strictObject({
  status: z.enum(['pending', 'sent', 'failed', 'skipped']).optional(),
  errorClass: z.string().max(50).optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Failure classes that may succeed on a later try (retry-failed with onlyRetryable). */
export const RETRYABLE_CLASSES = ['transient', 'rate_limited', 'channel_auth'] as const;
