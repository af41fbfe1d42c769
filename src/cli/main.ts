import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config/config.ts';
import { createHerald, createLogger } from '../server.ts';
import { openDb } from '../storage/db.ts';
import { migrateToLatest } from '../storage/migrate.ts';
import { ROLES, createApiKey, ensureWorkspace, type Role } from '../workspaces/workspaces-store.ts';
import { seedDemo } from './demo-data.ts';

function config(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`herald: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** Starts Herald and stops it gracefully on SIGTERM/SIGINT (in-flight sends finish first). */
async function run(opts: { api: boolean; worker: boolean; demo?: boolean }): Promise<void> {
  const cfg = config();
  const log = createLogger(cfg);
  let herald;
  try {
    herald = await createHerald(cfg, { api: opts.api, worker: opts.worker, logger: log });
  } catch (err) {
    process.stderr.write(`herald: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  if (opts.demo) {
    const summary = await seedDemo(herald.ctx);
    process.stdout.write(`\n  Demo data: ${summary}\n`);
  }
  const address = await herald.listen().catch((err: Error) => {
    process.stderr.write(`herald: cannot listen on ${cfg.host}:${cfg.port}: ${err.message}\n`);
    process.exit(1);
  });
  const parts = [opts.api ? `API on ${address}` : null, opts.worker ? 'delivery engine running' : null].filter(Boolean);
  log.info({ database: herald.ctx.db.flags.dialect, dataDir: cfg.dataDir }, `Herald started: ${parts.join(', ')}`);
  if (opts.api) process.stdout.write(`\n  Herald is running: ${cfg.publicUrl}  (API ${cfg.publicUrl}/api/v1, OpenAPI ${cfg.publicUrl}/api/v1/openapi.json)\n\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight sends');
    herald!.close().then(() => process.exit(0), (err) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

const program = new Command('herald').description('Herald: broadcast campaigns over chat channels').showHelpAfterError();
program.command('start', { isDefault: true }).description('Run the API and the delivery engine in one process').action(() => run({ api: true, worker: true }));
program.command('api').description('Run the API only (no sending)').action(() => run({ api: true, worker: false }));
program.command('worker').description('Run the delivery engine only (no HTTP)').action(() => run({ api: false, worker: true }));
program.command('demo').description('Start with demo data: a simulator channel, 1,000 tagged contacts and a draft campaign').action(() => run({ api: true, worker: true, demo: true }));
program.command('migrate').description('Apply database migrations and exit').action(async () => {
  const cfg = config();
  const db = openDb(cfg.databaseUrl);
  try {
    const applied = await migrateToLatest(db);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
  } catch (err) {
    process.stderr.write(`herald: migration failed: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await db.close();
  }
});
const keys = program.command('keys').description('Manage API keys');
keys
  .command('create')
  .description('Create an API key and print it (the workspace is created if missing)')
  .requiredOption('--workspace <name>', 'workspace name')
  .addOption(new Option('--role <role>', 'role of the key').choices([...ROLES]).default('admin'))
  .option('--name <name>', 'a label for the key', 'cli')
  .action(async (o: { workspace: string; role: Role; name: string }) => {
    const cfg = config();
    if (!/^[\w .-]{1,100}$/.test(o.workspace)) {
      process.stderr.write('herald: --workspace must be 1-100 letters, digits, spaces, dots, dashes or underscores\n');
      process.exit(2);
    }
    const db = openDb(cfg.databaseUrl);
    try {
      await migrateToLatest(db);
      const ws = await ensureWorkspace(db, o.workspace);
      const { key } = await createApiKey(db, ws.id, { role: o.role, name: o.name });
      process.stdout.write(`${key}\n`);
    } catch (err) {
      process.stderr.write(`herald: ${(err as Error).message}\n`);
      process.exitCode = 1;
    } finally {
      await db.close();
    }
  });

program
  .command('mock-providers')
  .description('Run mock WhatsApp, LINE, Telegram, Messenger and Twilio servers (demos, tests): point a channel at one with settings.apiBaseUrl')
  .option('--port-base <port>', 'first port: whatsapp, line, telegram, messenger, twilio on consecutive ports', '4010')
  .option('--rate <n>', 'rate limit per second of each mock (0 = none)', '0')
  .option('--latency <ms>', 'delay before every answer', '0')
  .action(async (o: { portBase: string; rate: string; latency: string }) => {
    const base = Number(o.portBase);
    const rate = Number(o.rate);
    const latency = Number(o.latency);
    if (!Number.isInteger(base) || base < 1 || base > 65530 || !(rate >= 0) || !(latency >= 0)) {
      process.stderr.write('herald: --port-base must be a port (1-65530), --rate and --latency numbers >= 0\n');
      process.exit(2);
    }
    // Loaded only for this command: the mocks live with the tests.
    const { MOCK_CREDENTIALS, REAL_PROVIDERS, startAllMockProviders } = await import('../../test/mock-providers/index.ts');
    const ports = Object.fromEntries(REAL_PROVIDERS.map((p, i) => [p, { port: base + i }]));
    const set = await startAllMockProviders({ host: '127.0.0.1', rateLimitPerSecond: rate, latencyMs: latency }, ports).catch((err: Error) => {
      process.stderr.write(`herald: cannot start the mock providers: ${err.message}\n`);
      process.exit(1);
    });
    process.stdout.write('\n  Mock providers (set the channel\'s settings.apiBaseUrl to the URL, use these credentials):\n\n');
    for (const p of REAL_PROVIDERS) process.stdout.write(`  ${p.padEnd(10)} ${set.providers[p].url}  credentials ${JSON.stringify(MOCK_CREDENTIALS[p])}\n`);
    process.stdout.write('\n');
    const stop = () => void set.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`herald: ${err.message}\n`);
  process.exit(1);
});
