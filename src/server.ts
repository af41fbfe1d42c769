import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.ts';
import type { AppContext } from './app-context.ts';
import { openDb, type Db } from './storage/db.ts';
import { migrateToLatest } from './storage/migrate.ts';
import { createApp } from './http/app.ts';
import { createEventBus } from './events/create-bus.ts';
import { Engine, type EngineOptions } from './engine/engine.ts';
import { registerLiveRoutes } from './http/routes/live-routes.ts';
import { registerWebhookRoutes } from './http/routes/webhook-routes.ts';
import { registerWebRoutes } from './http/routes/web-routes.ts';
import { bootstrap } from './bootstrap.ts';
import { Metrics } from './engine/metrics.ts';

export interface HeraldOptions {
  /** Run the HTTP API (default true). */
  api?: boolean;
  /** Run the delivery engine (default true). */
  worker?: boolean;
  engine?: Partial<EngineOptions>;
  logger?: Logger;
}

export interface Herald {
  ctx: AppContext;
  app: FastifyInstance | null;
  engine: Engine | null;
  initialKey: string | null;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'herald' }, redact: ['credentials', '*.credentials', 'req.headers.authorization'] });
}

/** Wires every component once: storage → event bus → engine → HTTP app. */
export async function createHerald(config: Config, opts: HeraldOptions = {}): Promise<Herald> {
  const log = opts.logger ?? createLogger(config);
  const db: Db = openDb(config.databaseUrl);
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  const { initialKey } = await bootstrap(db, config, log);
  const bus = createEventBus(db, log);
  let engine: Engine | null = null;
  const ctx: AppContext = { db, config, bus, log, wake: () => engine?.wake() };
  const metrics = new Metrics(db);
  if (opts.worker !== false) engine = new Engine(ctx, { ...config.engine, ...opts.engine }, metrics);
  const app = opts.api !== false
    ? await createApp(ctx, async (a, routes) => {
      await registerLiveRoutes(a, routes, ctx, metrics);
      await registerWebhookRoutes(a, routes, ctx);
      await registerWebRoutes(a);
    })
    : null;

  return {
    ctx,
    app,
    engine,
    initialKey,
    async listen() {
      engine?.start();
      if (!app) return '';
      return app.listen({ port: config.port, host: config.host });
    },
    async close() {
      if (app) await app.close();
      if (engine) await engine.stop();
      await bus.close();
      await db.close();
    },
  };
}
