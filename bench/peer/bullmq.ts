/**
 * Peer baseline, contender 2: what a user would otherwise build. One BullMQ job per recipient in
 * Redis (the parent starts a private redis-server with append-only persistence, fsync every
 * second), a producer that adds the jobs with addBulk in chunks of 1,000, and a Worker with the
 * same concurrency whose processor POSTs to the mock and throws on a non-2xx answer.
 *
 * Job options are what BullMQ's documentation advises for production: 3 attempts with
 * exponential backoff, and auto-removal that keeps the last 1,000 completed and 5,000 failed jobs
 * ("a handful of completed jobs and a much larger value of failed jobs") so Redis does not fill
 * up. So BullMQ keeps no per-recipient record of what was sent, where Herald keeps a row per
 * recipient with the provider's message id: the comparison is, if anything, kind to BullMQ.
 * The Worker runs while the producer enqueues, as it would in production; the time is from the
 * first addBulk until every job has completed (or failed for good).
 */
import { Queue, Worker, type Job } from 'bullmq';
import { rssSampler } from '../lib.ts';
import { chatId, cpuMeter, params, profiler, result, text, warmedUp } from './child.ts';

const p = params();
const port = Number(process.env.PEER_REDIS_PORT);
const CHUNK = 1000;
// BullMQ connects through ioredis (its documented driver), with the Worker's required maxRetriesPerRequest.
const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
const url = `${p.mockUrl}/bot${p.credentials.botToken}/sendMessage`;

interface SendJob { chatId: number; text: string }

async function processSend(job: Job<SendJob>): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chat_id: job.data.chatId, text: job.data.text }) });
  const body = await res.text();
  if (!res.ok) throw new Error(`sendMessage answered ${res.status}: ${body.slice(0, 200)}`);
  const answer = JSON.parse(body) as { result: { message_id: number; chat: { id: number } } };
  return `${answer.result.chat.id}:${answer.result.message_id}`;
}

async function run(queueName: string, n: number) {
  const queue = new Queue<SendJob>(queueName, {
    connection,
    defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 } },
  });
  let completed = 0;
  let failed = 0;
  let retried = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const worker = new Worker<SendJob>(queueName, processSend, { connection, concurrency: p.concurrency });
  worker.on('completed', () => {
    if (++completed + failed === n) finish();
  });
  worker.on('failed', (job) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
      if (completed + ++failed === n) finish();
    } else retried++;
  });
  worker.on('error', (err) => console.error('worker error:', err.message));
  await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);

  const started = performance.now();
  for (let from = 0; from < n; from += CHUNK) {
    const jobs = [];
    for (let i = from; i < Math.min(n, from + CHUNK); i++) jobs.push({ name: 'send', data: { chatId: chatId(i), text: text(i) } });
    await queue.addBulk(jobs);
  }
  const enqueueSeconds = (performance.now() - started) / 1000;
  await finished;
  const seconds = (performance.now() - started) / 1000;
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { seconds, enqueueSeconds, completed, failed, retried, counts };
}

await run('peer-warmup', p.warmup); // warm-up: JIT, connections, Lua scripts loaded
await warmedUp();
const prof = await profiler('bullmq');
const rss = rssSampler();
const cpu = cpuMeter();
const r = await run('peer-broadcast', p.n);
const peakRssMb = rss.stop();
const cpuSeconds = cpu.stop();
const profile = await prof.stop();
await result({
  perSec: Math.round(p.n / r.seconds), seconds: Number(r.seconds.toFixed(2)),
  enqueueSeconds: Number(r.enqueueSeconds.toFixed(2)), enqueuePerSec: Math.round(p.n / r.enqueueSeconds),
  completed: r.completed, failed: r.failed, retried: r.retried, keptCompleted: r.counts.completed, peakRssMb, cpuMsPerMessage: Number(((cpuSeconds * 1000) / p.n).toFixed(3)), ...(profile ? { profile } : {}),
});
process.exit(0);
