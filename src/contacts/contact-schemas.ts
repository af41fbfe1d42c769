import { z } from 'zod';

export const MAX_NAME = 200;
export const MAX_PROVIDER_USER_ID = 256;
export const MAX_TAG = 64;
export const MAX_BULK = 10_000;

export function normalizeTag(raw: string): string | null {
  const t = raw.trim();
  return t.length === 0 || t.length > MAX_TAG ? null : t;
}

const tag = z.string().trim().min(1).max(MAX_TAG);
const attributes = z.record(z.string().max(100), z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()])).refine((a) => Object.keys(a).length <= 100, 'at most 100 attributes');

export const identityInput = z.strictObject({
  channelId: z.string().min(1).max(100),
  providerUserId: z.string().trim().min(1).max(MAX_PROVIDER_USER_ID),
  optedOut: z.boolean().optional(),
});

export const contactInput = z.strictObject({
  name: z.string().trim().max(MAX_NAME).optional(),
  tags: z.array(tag).max(100).optional(),
  attributes: attributes.optional(),
  identities: z.array(identityInput).max(20).optional(),
});

export const bulkContactsInput = z.strictObject({ contacts: z.array(contactInput).min(1).max(MAX_BULK) });

export const contactPatch = z.strictObject({
  name: z.string().trim().max(MAX_NAME).optional(),
  tags: z.array(tag).max(100).optional(),
  attributes: attributes.optional(),
  identities: z.array(identityInput).max(20).optional(),
});

export const contactListQuery = z.strictObject({
  tag: z.string().max(MAX_TAG).optional(),
  channelId: z.string().max(100).optional(),
  q: z.string().max(200).optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
