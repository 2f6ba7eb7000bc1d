// Every fact any Glance profile's resources ask for, so the engine gathers them all in its one round
// trip whatever the release turns out to be.
import type { FactSpec } from '../../src/engine/facts.ts';
import { dpkgFact } from '../../src/resources/apt-packages.ts';
import { dpkgUpdatesFact } from '../../src/resources/dpkg-health.ts';
import { dpkgLockFact } from '../../src/resources/dpkg-lock.ts';
import { fileFact } from '../../src/resources/ini-file.ts';
import { pidFact } from '../../src/resources/service.ts';
import { revisionsFact } from '../../src/resources/alembic-schema.ts';
import { migrateVersionsFact } from '../../src/resources/migrate-schema.ts';
import { pathFact } from '../../src/resources/path-absent.ts';
import { openrcFact } from '../../src/providers/admin-credentials.ts';
import { syncRunningFact } from '../../src/resources/schema-sync.ts';
import { mysqlSnapshotFact, type MysqlSnapshot } from '../../src/resources/mysql-snapshot.ts';
import { profiles, KEYSTONE_CA, SCHEMA_SYNC, type GlanceProfile } from './profiles.ts';
import type { GlanceSettings } from './settings.ts';

export function glanceFacts(): FactSpec<unknown>[] {
  const all = Object.values(profiles);
  const specs = [
    dpkgFact,
    dpkgUpdatesFact,
    dpkgLockFact,
    openrcFact,
    ...[...new Set(all.flatMap((p) => p.configs.map((c) => c.path)))].map(fileFact),
    // Read whether or not Keystone turns out to be https: one more line in the same round trip.
    fileFact(KEYSTONE_CA),
    ...all.flatMap((p) => p.services.map((s) => pidFact(s.name, s.pidfiles))),
    ...[...new Set(all.filter((p) => p.schema.tool === 'alembic').map((p) => p.schema.versionsDir))].map(revisionsFact),
    ...[...new Set(all.filter((p) => p.schema.tool === 'migrate').map((p) => p.schema.versionsDir))].map(migrateVersionsFact),
    ...[...new Set(all.flatMap((p) => p.leftovers))].map(pathFact),
    // Read only when the schema is behind, but one more line in the same round trip costs nothing.
    syncRunningFact(SCHEMA_SYNC),
  ] as FactSpec<unknown>[];
  return [...new Map(specs.map((f) => [f.key, f])).values()];
}

/**
 * MariaDB as the database resources and the preflight read it, taken with the facts (the database, both
 * accounts, the schema's revision): for a profile whose admin is root over the socket, and not when the
 * operator names the admin's password (TCP is what they mean). Without a profile (the facts are declared
 * before the release is known): whether it is worth gathering at all.
 */
export function glanceMysqlSnapshot(settings: Pick<GlanceSettings, 'database' | 'dbUser' | 'dbAdminPasswordFile'>, profile?: Pick<GlanceProfile, 'dbAdmin'>): FactSpec<MysqlSnapshot> | undefined {
  if (settings.dbAdminPasswordFile || (profile && profile.dbAdmin !== 'socket')) return undefined;
  return mysqlSnapshotFact({
    databases: [settings.database],
    accounts: [{ user: settings.dbUser, host: 'localhost' }, { user: settings.dbUser, host: '%' }],
    alembic: [settings.database],
  });
}
