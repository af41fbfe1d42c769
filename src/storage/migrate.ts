import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './db.ts';
import * as m001 from './migrations/001-initial.ts';
import * as m002 from './migrations/002-users.ts';

/** Versioned migrations, applied in name order; Kysely's migrator records and locks them. */
function provider(db: Db): MigrationProvider {
  const all: Record<string, Migration> = {
    '001-initial': { up: (k) => m001.up(k, db.flags.dialect) },
    '002-users': { up: (k) => m002.up(k) },
  };
  return { getMigrations: async () => all };
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  // The schema is named explicitly: Kysely's existence check would otherwise see another schema's tables.
  const migrator = new Migrator({ db: db.k, provider: provider(db), ...(db.schema ? { migrationTableSchema: db.schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
