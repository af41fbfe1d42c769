import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import type { Db } from './storage/db.ts';
import type { EventBus } from './events/types.ts';

/** The components every part of Herald is handed (wired once in server.ts, no singletons). */
export interface AppContext {
  readonly db: Db;
  readonly config: Config;
  readonly bus: EventBus;
  readonly log: Logger;
  /** Tells the engine in this process that there is new work (a send, a schedule, a resume). */
  wake(): void;
}
