/**
 * Failed sign-ins per client IP and email: after MAX_FAILURES within WINDOW_MS, further attempts
 * for that pair are refused until the window ends, so passwords cannot be guessed at speed while
 * other people (other IPs, other emails) are unaffected. In memory, per API process: with N API
 * processes an attacker gets N × MAX_FAILURES guesses per window, still far too few to matter.
 */
export const MAX_FAILURES = 5;
export const WINDOW_MS = 15 * 60_000;
const MAX_TRACKED = 50_000;

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  private key(ip: string, email: string): string {
    return `${ip}\u0000${email.trim().toLowerCase()}`;
  }

  /** Milliseconds until this pair may try again, or 0 when it may try now. */
  retryAfter(ip: string, email: string): number {
    const f = this.failures.get(this.key(ip, email));
    if (!f) return 0;
    const left = f.since + WINDOW_MS - this.now();
    if (left <= 0) {
      this.failures.delete(this.key(ip, email));
      return 0;
    }
    return f.count >= MAX_FAILURES ? left : 0;
  }

  fail(ip: string, email: string): void {
    const k = this.key(ip, email);
    const f = this.failures.get(k);
    if (f && f.since + WINDOW_MS > this.now()) f.count++;
    else {
      if (this.failures.size >= MAX_TRACKED) this.prune();
      this.failures.set(k, { count: 1, since: this.now() });
    }
  }

  succeed(ip: string, email: string): void {
    this.failures.delete(this.key(ip, email));
  }

  private prune(): void {
    const now = this.now();
    for (const [k, f] of this.failures) if (f.since + WINDOW_MS <= now) this.failures.delete(k);
    // Still full (an attack from many addresses): forget the oldest half rather than grow without bound.
    if (this.failures.size >= MAX_TRACKED) [...this.failures.keys()].slice(0, MAX_TRACKED / 2).forEach((k) => this.failures.delete(k));
  }
}
