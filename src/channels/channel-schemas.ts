import { z } from 'zod';
import { PROVIDERS } from '../providers/types.ts';

/** Settings every provider understands; providers may read more keys (kept as given). */
export const channelSettings = z
  .looseObject({
    apiBaseUrl: z.url({ protocol: /^https?$/ }).optional(),
    timeoutMs: z.number().int().min(100).max(120_000).optional(),
    concurrency: z.number().int().min(1).max(1000).optional(),
    latencyMs: z.number().min(0).max(60_000).optional(),
    failureRate: z.number().min(0).max(1).optional(),
    authExpired: z.boolean().optional(),
    rateLimitPerSecond: z.number().positive().max(1_000_000).optional(),
  })
  .refine((s) => JSON.stringify(s).length <= 20_000, 'settings are too large');

// JSON.stringify is safe here: route-kit's checkInputShape has bounded the depth before parsing.
const credentials = z.record(z.string().max(100), z.unknown()).refine((c) => JSON.stringify(c).length <= 20_000, 'credentials are too large');

export const channelCreate = z.strictObject({
  name: z.string().trim().min(1).max(200),
  provider: z.enum(PROVIDERS),
  credentials: credentials.default({}),
  rateLimitPerSecond: z.number().min(0.01).max(100_000).optional(),
  settings: channelSettings.default({}),
});

export const channelPatch = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  credentials: credentials.optional(),
  rateLimitPerSecond: z.number().min(0.01).max(100_000).optional(),
  settings: channelSettings.optional(),
});
