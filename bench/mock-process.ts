/**
 * A mock provider in its own process (so it does not share the event loop with what is measured).
 * Started with fork(); argv[2] is the provider, argv[3] JSON MockOptions. Prints READY <url> and
 * answers {cmd:'stats'} with counts, {cmd:'configure'} with new options.
 */
import { startMockProvider, MOCK_CREDENTIALS, type RealProvider } from '../test/mock-providers/index.ts';

const provider = (process.argv[2] ?? 'telegram') as RealProvider;
const options = JSON.parse(process.argv[3] ?? '{}');
const mock = await startMockProvider(provider, options);
process.send?.({ ready: true, url: mock.url, credentials: MOCK_CREDENTIALS[provider] });
process.on('message', (msg: { cmd: string; options?: Record<string, unknown> }) => {
  if (msg.cmd === 'stats') {
    const recipients = new Set(mock.received.map((r) => r.recipient));
    const times = mock.received.map((r) => r.at);
    process.send?.({ received: mock.received.length, unique: recipients.size, requests: mock.requestCount, first: times[0] ?? null, last: times[times.length - 1] ?? null, times: msg.options?.withTimes ? times : undefined });
  } else if (msg.cmd === 'reset') {
    mock.reset();
    process.send?.({ reset: true });
  } else if (msg.cmd === 'configure') {
    mock.configure(msg.options ?? {});
    process.send?.({ configured: true });
  }
});
process.on('disconnect', () => void mock.close().then(() => process.exit(0)));
