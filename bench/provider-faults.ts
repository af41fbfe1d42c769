/**
 * `npm run bench:faults`: provider faults. Campaigns through mock providers that answer 10% of
 * sends with 5xx, never answer 5% (timeouts), answer 5% after 2 s, lose 1% of answers after
 * accepting the message, and rate-limit every send for 1 s out of every 5 (429 bursts) — for
 * LINE without a Retry-After hint, for Telegram with retry_after. The mock also enforces the
 * channel's rate (its own 429 when exceeded, counted apart).
 * Expected: every retryable failure ends sent (LINE: all; Telegram: all but calls that timed out,
 * which without an idempotency key end "delivery uncertain" rather than risk a double send),
 * nothing lost, nobody received twice, never more than the channel's rate in any second.
 *
 * Env: FAULTS_N (5000), FAULTS_RATE (200), FAULTS_PROVIDERS (line,telegram), BENCH_DB_URL (PostgreSQL; default SQLite).
 */
import { createCampaign, sendCampaign } from '../src/campaigns/campaign-service.ts';
import { createChannel, report, seedMembers, startBenchHerald, startMock, waitFinal } from './lib.ts';
import { maxPerSecond, reconcile } from './fault-lib.ts';
import { finish, timeBound } from './load-kit.ts';

const N = Number(process.env.FAULTS_N ?? 5000);
const RATE = Number(process.env.FAULTS_RATE ?? 200);
const DB = process.env.BENCH_DB_URL;
timeBound('provider-faults', 15 * 60_000);

const faults = { errorRate: 0.1, timeoutRate: 0.05, slowRate: 0.05, slowMs: 2000, lostAnswerRate: 0.01, throttleBursts: { periodMs: 5000, burstMs: 1000 }, rateLimitPerSecond: RATE, latencyMs: 5 };
const scenarios = [
  { provider: 'line' as const, prefix: 'U', mock: { ...faults, omitRetryAfter: true } },
  { provider: 'telegram' as const, prefix: '', mock: { ...faults, omitRetryAfter: false } },
];

const only = process.env.FAULTS_PROVIDERS?.split(',');
let failures = 0;
for (const s of scenarios.filter((x) => !only || only.includes(x.provider))) {
  const mock = await startMock(s.provider, s.mock);
  const b = await startBenchHerald({ engine: { concurrency: 32 } }, DB);
  const channelId = await createChannel(b, s.provider, mock.credentials, RATE, { apiBaseUrl: mock.url, timeoutMs: 3000 });
  await seedMembers(b, channelId, N, s.prefix);
  const ctx = b.herald.ctx;
  b.herald.engine!.start();
  const c = await createCampaign(ctx, b.workspaceId, { name: `faults-${s.provider}`, channelId, message: { type: 'text', text: 'Hello {{name}}' }, audience: { type: 'all' } });
  const started = Date.now();
  await sendCampaign(ctx, b.workspaceId, c.id);
  const done = await waitFinal(b, c.id, 12 * 60_000);
  const seconds = (Date.now() - started) / 1000;
  const dump = await mock.dump();
  const r = await reconcile(ctx.db, c.id, dump);
  const peak = maxPerSecond(dump.received.map((m) => m.at));
  const expectAllSent = s.provider === 'line';
  const ok = r.lost === 0 && r.receivedTwice === 0 && r.strangers === 0 && r.failedRetryable === 0 && r.countersMatch
    && dump.rateLimited.overLimit === 0 && peak <= RATE && (!expectAllSent || r.sent === N)
    && r.failed === r.uncertain;
  if (!ok) failures++;
  report('provider-faults', {
    provider: s.provider, database: ctx.db.flags.dialect, recipients: N, channelRate: RATE, retryAfterHint: !s.mock.omitRetryAfter,
    seconds: Number(seconds.toFixed(1)), status: done.status, ...r,
    providerRequests: dump.requests, burst429: dump.rateLimited.burst, overLimit429: dump.rateLimited.overLimit, maxReceivedInAnySecond: peak, ok,
  });
  await b.close();
  mock.close();
}
await finish(failures ? 1 : 0);
