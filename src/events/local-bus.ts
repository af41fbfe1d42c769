import type { EventBus, ProgressEvent } from './types.ts';

type Listener = (e: ProgressEvent) => void;

/**
 * In-process fan-out, keyed by workspace and campaign so an event reaches only its own
 * subscribers. Listeners must not block: the WebSocket layer buffers per client.
 */
export class LocalBus implements EventBus {
  private readonly listeners = new Map<string, Set<Listener>>();

  publish(event: ProgressEvent): void {
    this.deliver(event);
  }

  protected deliver(event: ProgressEvent): void {
    for (const k of [`${event.workspaceId}:${event.campaignId}`, `${event.workspaceId}:*`]) {
      for (const fn of this.listeners.get(k) ?? []) {
        try {
          fn(event);
        } catch {
          // A faulty listener must never break the publisher (the engine).
        }
      }
    }
  }

  subscribe(workspaceId: string, campaignId: string, fn: Listener): () => void {
    const k = `${workspaceId}:${campaignId}`;
    const set = this.listeners.get(k) ?? this.listeners.set(k, new Set()).get(k)!;
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.listeners.delete(k);
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
