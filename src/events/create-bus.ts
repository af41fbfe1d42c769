import type { Logger } from 'pino';
import type { Db } from '../storage/db.ts';
import type { EventBus } from './types.ts';
import { LocalBus } from './local-bus.ts';
import { PostgresBus } from './postgres-bus.ts';

/** In process with SQLite; across processes (LISTEN/NOTIFY) with PostgreSQL. */
export function createEventBus(db: Db, log: Logger): EventBus {
  if (db.flags.listenNotify && db.pgConfig) return new PostgresBus(db, log);
  return new LocalBus();
}
