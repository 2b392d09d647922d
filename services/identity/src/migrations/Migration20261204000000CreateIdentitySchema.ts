import { Migration } from '@mikro-orm/migrations';
import { tenantIsolationSql } from '@hms/service-kit';

/**
 * The first identity schema: tenants and platform operators (platform tables, no tenant), users, roles,
 * sessions and refresh tokens (tenant-owned, under row-level security), and signing keys.
 *
 * Tenant-owned tables reference each other through (tenant_id, id) pairs, so a row can never point
 * at another tenant's row even if application code gets an id wrong. Every index that serves a
 * tenant's query starts with tenant_id. Foreign keys are checked at commit (deferred): the entities
 * hold plain id columns rather than ORM relations, so the ORM does not order inserts by dependency.
 */
export class Migration20261204000000CreateIdentitySchema extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table identity.tenants (
        id uuid primary key,
        slug text not null,
        name text not null check (length(name) between 1 and 200),
        status text not null check (status in ('active', 'suspended', 'offboarded')),
        status_reason text,
        status_changed_at timestamptz not null,
        time_zone text not null,
        currency text not null check (currency ~ '^[A-Z]{3}$'),
        read_audit_enabled boolean not null,
        age_of_majority integer not null check (age_of_majority between 1 and 30),
        password_min_length integer not null check (password_min_length between 8 and 128),
        password_history_count integer not null check (password_history_count between 0 and 24),
        password_max_age_days integer not null check (password_max_age_days between 0 and 3650),
        lockout_threshold integer not null check (lockout_threshold between 1 and 100),
        lockout_minutes integer not null check (lockout_minutes between 1 and 1440),
        inactive_user_disable_days integer not null check (inactive_user_disable_days between 0 and 3650),
        patient_self_registration boolean not null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint tenants_slug_format check (slug ~ '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$')
      )`);
    this.addSql('create unique index tenants_slug_key on identity.tenants (slug)');

    this.addSql(`
      create table identity.platform_operators (
        id uuid primary key,
        email text not null check (email = lower(email)),
        name text not null,
        password_hash text not null,
        password_changed_at timestamptz not null,
        failed_login_count integer not null check (failed_login_count >= 0),
        locked_until timestamptz,
        last_login_at timestamptz,
        created_at timestamptz not null
      )`);
    this.addSql('create unique index platform_operators_email_key on identity.platform_operators (email)');

    this.addSql(`
      create table identity.users (
        id uuid primary key,
        tenant_id uuid not null references identity.tenants (id) deferrable initially deferred,
        given_name text,
        family_name text,
        display_name text not null check (length(display_name) between 1 and 200),
        email text check (email = lower(email)),
        phone text check (phone ~ '^\\+[1-9][0-9]{6,14}$'),
        status text not null check (status in ('active', 'deactivated')),
        status_changed_at timestamptz not null,
        deactivation_reason text,
        password_hash text not null,
        password_changed_at timestamptz not null,
        password_reset_required boolean not null,
        failed_login_count integer not null check (failed_login_count >= 0),
        locked_until timestamptz,
        last_login_at timestamptz,
        last_active_at timestamptz,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint users_contact_present check (email is not null or phone is not null),
        constraint users_tenant_id_id_key unique (tenant_id, id)
      )`);
    this.addSql('create unique index users_tenant_email_key on identity.users (tenant_id, email)');
    this.addSql('create unique index users_tenant_phone_key on identity.users (tenant_id, phone)');
    this.addSql('create index users_tenant_display_name_idx on identity.users (tenant_id, display_name, id)');

    this.addSql(`
      create table identity.password_history (
        id uuid primary key,
        tenant_id uuid not null,
        user_id uuid not null,
        password_hash text not null,
        created_at timestamptz not null,
        foreign key (tenant_id, user_id) references identity.users (tenant_id, id) on delete cascade deferrable initially deferred
      )`);
    this.addSql(
      'create index password_history_tenant_user_idx on identity.password_history (tenant_id, user_id, created_at desc)',
    );

    this.addSql(`
      create table identity.roles (
        id uuid primary key,
        tenant_id uuid not null references identity.tenants (id) deferrable initially deferred,
        name text not null check (name ~ '^[a-z][a-z0-9_]{1,49}$'),
        description text,
        built_in boolean not null,
        permissions text[] not null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint roles_tenant_id_id_key unique (tenant_id, id)
      )`);
    this.addSql('create unique index roles_tenant_name_key on identity.roles (tenant_id, name)');

    this.addSql(`
      create table identity.user_roles (
        tenant_id uuid not null,
        user_id uuid not null,
        role_id uuid not null,
        created_at timestamptz not null,
        primary key (tenant_id, user_id, role_id),
        foreign key (tenant_id, user_id) references identity.users (tenant_id, id) on delete cascade deferrable initially deferred,
        foreign key (tenant_id, role_id) references identity.roles (tenant_id, id) on delete cascade deferrable initially deferred
      )`);
    this.addSql('create index user_roles_tenant_role_idx on identity.user_roles (tenant_id, role_id)');

    this.addSql(`
      create table identity.sessions (
        id uuid primary key,
        tenant_id uuid not null,
        user_id uuid not null,
        user_agent text,
        ip_address text,
        created_at timestamptz not null,
        last_seen_at timestamptz not null,
        revoked_at timestamptz,
        revoke_reason text,
        constraint sessions_tenant_id_id_key unique (tenant_id, id),
        foreign key (tenant_id, user_id) references identity.users (tenant_id, id) on delete cascade deferrable initially deferred
      )`);
    this.addSql(
      'create index sessions_tenant_user_active_idx on identity.sessions (tenant_id, user_id) where revoked_at is null',
    );

    this.addSql(`
      create table identity.refresh_tokens (
        id uuid primary key,
        tenant_id uuid not null,
        session_id uuid not null,
        token_hash text not null,
        created_at timestamptz not null,
        expires_at timestamptz not null,
        rotated_at timestamptz,
        foreign key (tenant_id, session_id) references identity.sessions (tenant_id, id) on delete cascade deferrable initially deferred
      )`);
    this.addSql(
      'create unique index refresh_tokens_tenant_hash_key on identity.refresh_tokens (tenant_id, token_hash)',
    );
    this.addSql(
      'create index refresh_tokens_tenant_session_idx on identity.refresh_tokens (tenant_id, session_id)',
    );

    this.addSql(`
      create table identity.platform_sessions (
        id uuid primary key,
        operator_id uuid not null references identity.platform_operators (id) on delete cascade deferrable initially deferred,
        user_agent text,
        ip_address text,
        created_at timestamptz not null,
        last_seen_at timestamptz not null,
        revoked_at timestamptz,
        revoke_reason text
      )`);
    this.addSql('create index platform_sessions_operator_idx on identity.platform_sessions (operator_id)');

    this.addSql(`
      create table identity.platform_refresh_tokens (
        id uuid primary key,
        session_id uuid not null references identity.platform_sessions (id) on delete cascade deferrable initially deferred,
        token_hash text not null,
        created_at timestamptz not null,
        expires_at timestamptz not null,
        rotated_at timestamptz
      )`);
    this.addSql(
      'create unique index platform_refresh_tokens_hash_key on identity.platform_refresh_tokens (token_hash)',
    );
    this.addSql(
      'create index platform_refresh_tokens_session_idx on identity.platform_refresh_tokens (session_id)',
    );

    this.addSql(`
      create table identity.signing_keys (
        kid text primary key,
        alg text not null check (alg = 'EdDSA'),
        public_jwk jsonb not null,
        private_jwk_ciphertext text not null,
        created_at timestamptz not null,
        activated_at timestamptz not null,
        retired_at timestamptz
      )`);
    // At most one active key: two instances racing at start, or two rotations at once, cannot both win.
    this.addSql(
      'create unique index signing_keys_single_active on identity.signing_keys ((true)) where retired_at is null',
    );

    for (const table of ['users', 'password_history', 'roles', 'user_roles', 'sessions', 'refresh_tokens']) {
      for (const statement of tenantIsolationSql(`identity.${table}`)) this.addSql(statement);
    }
  }

  override async down(): Promise<void> {
    for (const table of [
      'signing_keys',
      'platform_refresh_tokens',
      'platform_sessions',
      'refresh_tokens',
      'sessions',
      'user_roles',
      'roles',
      'password_history',
      'users',
      'platform_operators',
      'tenants',
    ]) {
      this.addSql(`drop table if exists identity.${table}`);
    }
  }
}
