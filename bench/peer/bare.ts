/**
 * Peer baseline, contender 1: the ceiling. A loop that only POSTs the same sendMessage requests
 * to the mock with the same number in flight, and reads each answer (as bareLoop in
 * bench/engine-throughput.ts). Nothing is recorded anywhere.
 */
import { rssSampler } from '../lib.ts';
import { chatId, cpuMeter, params, profiler, result, text, warmedUp } from './child.ts';

const p = params();
const url = `${p.mockUrl}/bot${p.credentials.botToken}/sendMessage`;
let errors = 0;

async function bareLoop(n: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: p.concurrency }, async () => {
    while (next < n) {
      const i = next++;
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chat_id: chatId(i), text: text(i) }) });
      await res.text();
      if (!res.ok) errors++;
    }
  }));
  return (performance.now() - started) / 1000;
}

await bareLoop(p.warmup); // warm-up: JIT, keep-alive sockets
await warmedUp();
errors = 0;
const prof = await profiler('bare');
const rss = rssSampler();
const cpu = cpuMeter();
const seconds = await bareLoop(p.n);
const peakRssMb = rss.stop();
const cpuSeconds = cpu.stop();
const profile = await prof.stop();
await result({ perSec: Math.round(p.n / seconds), seconds: Number(seconds.toFixed(2)), peakRssMb, cpuMsPerMessage: Number(((cpuSeconds * 1000) / p.n).toFixed(3)), httpErrors: errors, ...(profile ? { profile } : {}) });
process.exit(0);
