import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve(import.meta.dirname, '../../bin/herald.js');

/** Starts `herald worker` as a real child process on the given database. */
export function spawnWorker(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'worker'], {
    env: { ...process.env, HERALD_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (d: Buffer) => {
    if (process.env.HERALD_TEST_LOG) process.stderr.write(`[worker ${child.pid}] ${d}`);
  });
  return child;
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  child.kill(signal);
  await exited(child);
}
