/**
 * The child side of `npm run bench:peer` (bench/peer.ts): each contender runs in its own process
 * so that its peak RSS is its own. Parameters come in the environment; the child warms up, asks
 * the parent to reset the mock (`warmed` → `go`), runs the measured send and posts its result.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

export interface PeerParams {
  mockUrl: string;
  credentials: Record<string, string>;
  n: number;
  concurrency: number;
  warmup: number;
}

export function params(): PeerParams {
  const env = process.env;
  if (!env.PEER_MOCK_URL || !env.PEER_MOCK_CREDENTIALS) throw new Error('run through bench/peer.ts (npm run bench:peer)');
  return {
    mockUrl: env.PEER_MOCK_URL,
    credentials: JSON.parse(env.PEER_MOCK_CREDENTIALS) as Record<string, string>,
    n: Number(env.PEER_N),
    concurrency: Number(env.PEER_CONCURRENCY),
    warmup: Number(env.PEER_WARMUP),
  };
}

/** The same recipients and text for every contender: chat 1000000000 + i, "hello Member i". */
export const chatId = (i: number): number => 1_000_000_000 + i;
export const text = (i: number): string => `hello Member ${i}`;

// The parent gone (deadline, crash): stop at once.
process.on('disconnect', () => process.exit(1));

function post(msg: unknown): Promise<void> {
  return new Promise((resolve, reject) => process.send!(msg, (err: Error | null) => (err ? reject(err) : resolve())));
}

/** Tells the parent the warm-up is over and waits until it has reset the mock's counts. */
export async function warmedUp(): Promise<void> {
  const go = new Promise<void>((resolve) => {
    const onMessage = (m: { type?: string }) => {
      if (m?.type !== 'go') return;
      process.off('message', onMessage);
      resolve();
    };
    process.on('message', onMessage);
  });
  await post({ type: 'warmed' });
  await go;
}

/** CPU time (user + system) this process spends from now on, in seconds. */
export function cpuMeter(): { stop(): number } {
  const start = process.cpuUsage();
  return { stop: () => { const d = process.cpuUsage(start); return (d.user + d.system) / 1e6; } };
}

export async function result(data: Record<string, unknown>): Promise<void> {
  await post({ type: 'result', data });
}

/**
 * With PEER_PROFILE_DIR set, a V8 CPU profile of the measured phase only (not start-up, seeding or
 * warm-up), written as `<role>.cpuprofile` (open in Chrome DevTools, or summarise with
 * bench/peer/profile-summary.ts).
 */
export async function profiler(role: string): Promise<{ stop(): Promise<string | null> }> {
  const dir = process.env.PEER_PROFILE_DIR;
  if (!dir) return { stop: async () => null };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      const file = path.join(dir, `${role}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      return file;
    },
  };
}
