/**
 * Mock provider servers in their own process (so they do not share the event loop with what is
 * measured). Started with fork(); argv[2] is the provider, argv[3] JSON MockOptions, argv[4] how
 * many servers (default 1). Sends {ready, urls, credentials} and answers, for server `index`:
 * {cmd:'stats'} with counts, {cmd:'dump'} with every accepted message (recipient, time, retry key)
 * and the rate-limit answers given, {cmd:'reset'}, {cmd:'configure'} with new options.
 */
import { startMockProvider, MOCK_CREDENTIALS, type MockProvider, type RealProvider } from '../test/mock-providers/index.ts';

const provider = (process.argv[2] ?? 'telegram') as RealProvider;
const options = JSON.parse(process.argv[3] ?? '{}');
const count = Number(process.argv[4] ?? 1);
const mocks: MockProvider[] = [];
for (let i = 0; i < count; i++) mocks.push(await startMockProvider(provider, options));
process.send?.({ ready: true, urls: mocks.map((m) => m.url), credentials: MOCK_CREDENTIALS[provider] });
process.on('message', (msg: { cmd: string; index?: number; options?: Record<string, unknown> }) => {
  const mock = mocks[msg.index ?? 0];
  if (msg.cmd === 'stats') {
    const recipients = new Set(mock.received.map((r) => r.recipient));
    const times = mock.received.map((r) => r.at);
    process.send?.({ received: mock.received.length, unique: recipients.size, requests: mock.requestCount, first: times[0] ?? null, last: times[times.length - 1] ?? null, times: msg.options?.withTimes ? times : undefined });
  } else if (msg.cmd === 'dump') {
    process.send?.({ received: mock.received.map((r) => ({ recipient: r.recipient, at: r.at, retryKey: r.retryKey })), requests: mock.requestCount, rateLimited: mock.rateLimitedCount });
  } else if (msg.cmd === 'reset') {
    mock.reset();
    process.send?.({ reset: true });
  } else if (msg.cmd === 'configure') {
    mock.configure(msg.options ?? {});
    process.send?.({ configured: true });
  }
});
process.on('disconnect', () => void Promise.all(mocks.map((m) => m.close())).then(() => process.exit(0)));
