/**
 * Summarises a V8 .cpuprofile (as written by PEER_PROFILE_DIR): self time per function and per
 * file, as a share of all samples, and the inclusive time (self + callees) of the functions named
 * in PEER_INCLUSIVE (comma-separated, e.g. `claimRecipients,writeOutcomes,callProvider`).
 * `node --import tsx bench/peer/profile-summary.ts FILE [TOP]`.
 */
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

const file = process.argv[2];
if (!file) throw new Error('usage: profile-summary.ts FILE [TOP]');
const top = Number(process.argv[3] ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  self.set(id, (self.get(id) ?? 0) + dt);
  total += dt;
});

const shortUrl = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, 'nm:').replace(/^.*\/(src|bench|test)\//, '$1/');
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, t] of self) {
  const f = byId.get(id)!.callFrame;
  const where = f.url ? shortUrl(f.url) : '(native)';
  const key = `${f.functionName || '(anonymous)'}  ${where}:${f.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + t);
  const fileKey = f.url ? where : f.functionName || '(native)';
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + t);
}
const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
console.log(`total sampled: ${(total / 1e6).toFixed(2)} s`);
console.log('\nself time by function:');
for (const [k, t] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
console.log('\nself time by file:');
for (const [k, t] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);

const inclusive = (process.env.PEER_INCLUSIVE ?? '').split(',').filter(Boolean);
if (inclusive.length) {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const sums = new Map<string, number>(inclusive.map((name) => [name, 0]));
  profile.samples.forEach((id, i) => {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)!.callFrame.functionName;
      if (sums.has(name)) seen.add(name);
    }
    for (const name of seen) sums.set(name, sums.get(name)! + (profile.timeDeltas[i] ?? 0));
  });
  console.log('\ninclusive time (self + callees):');
  for (const [name, t] of sums) console.log(`${pct(t)}  ${name}`);
}
