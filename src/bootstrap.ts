import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import type { Db } from './storage/db.ts';
import { apiKeyExists, countApiKeys, createApiKey, DEFAULT_WORKSPACE, ensureWorkspace } from './workspaces/workspaces-store.ts';

/**
 * First-start setup: the default workspace, and an admin key. With HERALD_API_KEY that key is
 * registered; without it, on the very first start, a key is generated, printed once and written
 * to <data dir>/initial-admin-key (as Jenkins does with its initial password).
 */
export async function bootstrap(db: Db, config: Config, log: Logger): Promise<{ initialKey: string | null }> {
  const ws = await ensureWorkspace(db, DEFAULT_WORKSPACE);
  if (config.apiKey !== null) {
    if (!(await apiKeyExists(db, config.apiKey))) {
      await createApiKey(db, ws.id, { role: 'admin', name: 'HERALD_API_KEY', secret: config.apiKey });
      log.info('registered HERALD_API_KEY as an admin key of the default workspace');
    }
    return { initialKey: null };
  }
  if ((await countApiKeys(db)) > 0) return { initialKey: null };
  const { key } = await createApiKey(db, ws.id, { role: 'admin', name: 'initial admin key' });
  const file = path.join(config.dataDir, 'initial-admin-key');
  writeFileSync(file, key + '\n', { mode: 0o600 });
  process.stdout.write(`\n  Herald created the default workspace and an admin API key (shown once, also in ${file}):\n\n    ${key}\n\n  Open ${config.publicUrl} in a browser to create the first admin account.\n\n`);
  return { initialKey: key };
}
