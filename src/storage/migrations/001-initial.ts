import { sql, type Kysely } from 'kysely';

/** The first schema: tenants, channels, contacts, campaigns and their recipients. */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const big = 'bigint' as const;
  await db.schema
    .createTable('workspaces')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('auto_pause_threshold', 'integer', (c) => c.notNull().defaultTo(5))
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('last_used_at', big)
    .addColumn('revoked_at', big)
    .execute();

  await db.schema
    .createTable('channels')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('credentials_enc', 'text', (c) => c.notNull())
    .addColumn('rate_limit_per_second', 'double precision', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('ok'))
    .addColumn('status_message', 'text')
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('updated_at', big, (c) => c.notNull())
    .addColumn('deleted_at', big)
    .execute();
  await db.schema.createIndex('channels_workspace').on('channels').columns(['workspace_id', 'id']).execute();

  await db.schema
    .createTable('channel_pacing')
    .addColumn('channel_id', 'text', (c) => c.primaryKey())
    .addColumn('tat', 'double precision', (c) => c.notNull())
    .addColumn('blocked_until', 'double precision', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('contacts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('attributes', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('updated_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('contacts_workspace').on('contacts').columns(['workspace_id', 'id']).execute();

  await db.schema
    .createTable('contact_tags')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('contact_tags_pk', ['contact_id', 'tag'])
    .execute();
  await db.schema.createIndex('contact_tags_tag').on('contact_tags').columns(['workspace_id', 'tag', 'contact_id']).execute();

  await db.schema
    .createTable('identities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('provider_user_id', 'text', (c) => c.notNull())
    .addColumn('opted_out', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('opted_out_at', big)
    .addColumn('created_at', big, (c) => c.notNull())
    .addUniqueConstraint('identities_channel_user', ['channel_id', 'provider_user_id'])
    .execute();
  await db.schema.createIndex('identities_channel_contact').on('identities').columns(['channel_id', 'contact_id']).execute();
  await db.schema.createIndex('identities_contact').on('identities').columns(['contact_id']).execute();

  await db.schema
    .createTable('campaigns')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('scheduled_at', big)
    .addColumn('started_at', big)
    .addColumn('completed_at', big)
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('updated_at', big, (c) => c.notNull())
    .addColumn('pause_reason', 'text')
    .addColumn('status_reason', 'text')
    .addColumn('parent_campaign_id', 'text')
    .addColumn('total', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('delivered', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('read', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('audience_fixed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('audience_cursor', 'text')
    .execute();
  await db.schema.createIndex('campaigns_workspace').on('campaigns').columns(['workspace_id', 'id']).execute();
  await db.schema.createIndex('campaigns_status').on('campaigns').columns(['status', 'scheduled_at']).execute();

  const idCol = dialect === 'sqlite' ? sql`id integer primary key autoincrement` : sql`id bigint generated by default as identity primary key`;
  await sql`create table campaign_recipients (
    ${idCol},
    campaign_id text not null references campaigns(id) on delete cascade,
    contact_id text not null,
    identity_id text not null,
    provider_user_id text not null,
    name text not null,
    variables text not null,
    status text not null,
    error_class text,
    error_code text,
    error_message text,
    provider_message_id text,
    attempts integer not null default 0,
    transient_failures integer not null default 0,
    lease_owner text,
    lease_expires_at bigint,
    attempt_started_at bigint,
    next_attempt_at bigint not null default 0,
    sent_at bigint,
    failed_at bigint,
    delivered_at bigint,
    read_at bigint
  )`.execute(db);
  await db.schema.createIndex('recipients_campaign_contact').unique().on('campaign_recipients').columns(['campaign_id', 'contact_id']).execute();
  await db.schema.createIndex('recipients_claim').on('campaign_recipients').columns(['campaign_id', 'status', 'next_attempt_at']).execute();
  await db.schema.createIndex('recipients_lease').on('campaign_recipients').columns(['lease_expires_at']).execute();
  await db.schema.createIndex('recipients_provider_message').on('campaign_recipients').columns(['provider_message_id']).execute();
  await db.schema.createIndex('recipients_provider_user').on('campaign_recipients').columns(['provider_user_id']).execute();

  await db.schema
    .createTable('webhook_events')
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('dedupe_key', 'text', (c) => c.notNull())
    .addColumn('received_at', big, (c) => c.notNull())
    .addPrimaryKeyConstraint('webhook_events_pk', ['channel_id', 'dedupe_key'])
    .execute();
}
