// The install guide's Glance chapter as a playbook: the database and its grants, the service's
// identity in Keystone, the packages, the config files, the schema, the services running, and a
// closing check that an image goes through. Resources are listed in the guide's order.
import fs from 'node:fs';
import type { Playbook, PlaybookContext } from '../../src/engine/playbook.ts';
import type { Resource } from '../../src/engine/resource.ts';
import { inLane } from '../../src/engine/resource.ts';
import { projectPath } from '../../src/project-root.ts';
import { BACKUPS } from '../../src/state-paths.ts';
import { generatePassword } from '../../src/secrets/generate.ts';
import { mysqlDatabase } from '../../src/resources/mysql-database.ts';
import { mysqlUser } from '../../src/resources/mysql-user.ts';
import { keystoneUser } from '../../src/resources/keystone-user.ts';
import { keystoneRoleAssignment } from '../../src/resources/keystone-role-assignment.ts';
import { keystoneService } from '../../src/resources/keystone-service.ts';
import { keystoneEndpoints } from '../../src/resources/keystone-endpoints.ts';
import { aptPackages } from '../../src/resources/apt-packages.ts';
import { dpkgHealth } from '../../src/resources/dpkg-health.ts';
import { iniFile } from '../../src/resources/ini-file.ts';
import { alembicSchema } from '../../src/resources/alembic-schema.ts';
import { migrateSchema } from '../../src/resources/migrate-schema.ts';
import { pathAbsent } from '../../src/resources/path-absent.ts';
import { service } from '../../src/resources/service.ts';
import { file } from '../../src/resources/file.ts';
import { restartService } from '../../src/resources/service-control.ts';
import { schemaSyncHandler } from '../../src/resources/schema-sync.ts';
import { profiles, profileFor, KEYSTONE_CA, SCHEMA_SYNC, type GlanceProfile } from './profiles.ts';
import { options, glanceSettings, regionFor, type GlanceSettings } from './settings.ts';
import { sessions } from './sessions.ts';
import { glanceFacts, glanceMysqlSnapshot } from './facts.ts';
import { glancePreflight, preflightFacts } from './preflight.ts';
import { glanceApiReady, glanceRegistryReady } from './readiness.ts';
import { checkGlance } from './verify.ts';
import { adoptGlanceSecrets } from './adopt.ts';
import { dbPasswordProblem, keystonePasswordProblem, GLANCE_DB_PASSWORD_ENCODING } from './secret-rules.ts';
import { readsAhead } from '../../src/providers/read-ahead.ts';
import { snapshotOf } from '../../src/resources/mysql-snapshot.ts';
import type { Provider } from '../../src/engine/providers.ts';

type Ctx = PlaybookContext<GlanceSettings, GlanceProfile>;

export function template(name: string): string {
  return fs.readFileSync(projectPath('playbooks', 'glance', 'templates', name), 'utf8');
}

const restartOf = (service: string) => `restart-${service}`;

/** How this host's Glance reaches Keystone: its URL, region, and for https what it trusts. */
interface KeystoneAccess {
  url: URL;
  /** The public Identity URL glance-api.conf names (unversioned). */
  publicUrl: string;
  region: string;
  /** The CA to place for glance-api, when Keystone is https and the CA is known. */
  caPem?: string;
  /** https with the check switched off and no CA known: glance-api is told not to check either. */
  insecure: boolean;
}

async function keystoneAccess(ctx: Ctx): Promise<KeystoneAccess> {
  const creds = await ctx.host.use(sessions(ctx.settings).credentials);
  const url = new URL(creds.authUrl);
  const https = url.protocol === 'https:';
  const region = regionFor(ctx.settings, ctx.profile, creds.regionName);
  if (!ctx.settings.region && creds.regionName) ctx.host.note(`region ${creds.regionName}: the credentials' region (--region to set another)`);
  const caPem = https ? creds.tls?.ca : undefined;
  const insecure = https && !!creds.tls?.insecure && !caPem;
  if (insecure) ctx.host.note('warning: no CA known for Keystone: glance-api.conf gets [keystone_authtoken] insecure = true (pass --os-cacert FILE to have it check)');
  return { url, publicUrl: publicKeystoneUrl(creds.authUrl), region, ...(caPem ? { caPem } : {}), insecure };
}

/**
 * The public Identity URL, unversioned, from the admin's auth URL: the same host, on 5000 when the openrc
 * names Keystone's admin port (the Juno guide's is http://controller:35357/v2.0, and its glance-api.conf
 * wants auth_uri = http://controller:5000/v2.0).
 */
export function publicKeystoneUrl(authUrl: string): string {
  const u = new URL(authUrl);
  if (u.port === '35357') u.port = '5000';
  return `${u.protocol}//${u.host}`;
}

/** The values of the templates' placeholders. The passwords stay Secrets: the files' diffs mask them. */
function templateVars(ctx: Ctx, k: KeystoneAccess): Record<string, string | import('../../src/secret.ts').Secret> {
  const { settings, secrets } = ctx;
  return {
    GLANCE_DBPASS: secrets.GLANCE_DBPASS!,
    GLANCE_PASS: secrets.GLANCE_PASS!,
    CONTROLLER: settings.controller,
    REGION: k.region,
    KEYSTONE_URL: k.publicUrl,
    // Juno's identity_uri: the admin API on its own port.
    KEYSTONE_ADMIN_URL: `${k.url.protocol}//${k.url.hostname}:35357`,
    DB_HOST: settings.controller,
    // Optional keys: set for an https Keystone, removed otherwise.
    KEYSTONE_CAFILE: k.caPem ? KEYSTONE_CA : '',
    KEYSTONE_INSECURE: k.insecure ? 'true' : '',
  };
}

const SYNC_HINT = 'check [database] connection in /etc/glance/glance-api.conf and that MariaDB is up; the log is /var/log/glance/glance-manage.log';

// The schema sync is a handler the schema resource hands its change to: written to the journal before it
// starts and crossed out only once it finished, so a run cut off before or during the sync leaves it owed;
// it runs after the packages and the config, before the restarts.
const SYNC_SCHEMA = 'sync-glance-schema';

/** The schema as a resource (alembic's, Glance 13 and later, or sqlalchemy-migrate's, Juno); its sync is the SYNC_SCHEMA handler. */
function schema(ctx: Ctx): Resource {
  const { profile, settings: st } = ctx;
  const admin = sessions(st, ctx.secrets.GLANCE_PASS, profile).dbAdmin;
  const snapshot = glanceMysqlSnapshot(st, profile);
  const common = {
    id: 'glance', database: st.database, versionsDir: profile.schema.versionsDir, sync: SCHEMA_SYNC, admin, ...(snapshot ? { snapshot } : {}),
    notifies: [SYNC_SCHEMA, ...profile.services.map((x) => restartOf(x.name))], doneBy: SYNC_SCHEMA, hint: SYNC_HINT,
  };
  return profile.schema.tool === 'alembic' ? alembicSchema(common) : migrateSchema({ ...common, repositoryId: 'Glance Migrations' });
}

async function resources(ctx: Ctx): Promise<Resource[]> {
  const { profile, settings: st, secrets } = ctx;
  const s = sessions(st, secrets.GLANCE_PASS, profile);
  const restartAll = profile.services.map((x) => restartOf(x.name));
  // PyMySQL sends the password as latin-1: the accounts are checked and set as those bytes.
  // MariaDB as the facts saw it answers the reads of a run that changes nothing there (mysql-snapshot.ts).
  const snapshot = glanceMysqlSnapshot(st, profile);
  const db = { database: st.database, password: secrets.GLANCE_DBPASS!, admin: s.dbAdmin, dialect: profile.sqlDialect, passwordEncoding: GLANCE_DB_PASSWORD_ENCODING, ...(snapshot ? { snapshot } : {}) };
  const keystone = await keystoneAccess(ctx);
  const vars = templateVars(ctx, keystone);
  return [
    // 1. The database and its grants. (1, 2-3 and 4 do not depend on each other: they are applied side
    // by side, apt being the long one.)
    inLane('database', mysqlDatabase({ name: st.database, admin: s.dbAdmin, ...(snapshot ? { snapshot } : {}) })),
    inLane('database', mysqlUser({ user: st.dbUser, host: 'localhost', ...db })),
    inLane('database', mysqlUser({ user: st.dbUser, host: '%', ...db })),
    // 2-3. The service's identity: user, role, service, endpoints.
    inLane('identity', keystoneUser({ name: st.keystoneUser, domainId: st.domainId, password: secrets.GLANCE_PASS!, keystone: s.keystone })),
    inLane('identity', keystoneRoleAssignment({ user: st.keystoneUser, domainId: st.domainId, project: st.serviceProject, role: st.role, keystone: s.keystone })),
    inLane('identity', keystoneService({ ...st.service, keystone: s.keystone })),
    inLane('identity', keystoneEndpoints({ service: st.service, urls: st.endpoints, region: keystone.region, keystone: s.keystone })),
    // 4. Packages: first whatever an interrupted dpkg left half-done (apt installs nothing past it; finishing
    // it may configure Glance's own packages, whose new code runs only after a restart), then ours. New or
    // upgraded code only runs after a restart (the postinst's own start used the packaged config).
    inLane('packages', dpkgHealth({ lockTimeoutSec: st.dpkgLockTimeoutSec, notifies: restartAll })),
    inLane('packages', aptPackages({ id: 'glance', packages: profile.packages, preseed: profile.preseed, source: profile.packageSource, notifies: restartAll, lockTimeoutSec: st.dpkgLockTimeoutSec })),
    // 5-6. Configuration: for an https Keystone, the CA glance-api checks it with (after the package: /etc/glance is its).
    ...(keystone.caPem ? [file({
      path: KEYSTONE_CA, content: keystone.caPem, owner: 'root:root', mode: 0o644, describe: `the CA of ${keystone.url.protocol}//${keystone.url.host}`, notifies: restartAll,
    })] : []),
    ...profile.configs.map((c) => iniFile({
      path: c.path, template: template(c.template), vars, owner: 'root:glance', mode: 0o640, madeBy: 'the package', notifies: [restartOf(c.restarts)], retired: c.retired, backupDir: BACKUPS,
    })),
    // 7. Schema: synced by its handler, after the packages and the config.
    schema(ctx),
    // What the package left that the guide removes (Juno: the SQLite database the config no longer names).
    ...profile.leftovers.map((p) => pathAbsent(p)),
    // 8. Services running (restarts are handlers, run once after what asked for them).
    ...profile.services.map((x) => service({ ...x, state: 'running', doneBy: restartOf(x.name) })),
  ];
}

/** The check goes through the endpoint of the credentials' interface (clouds.yaml interface:, OS_INTERFACE), public by default. */
const verifyTarget = async (ctx: Ctx) => {
  const creds = await ctx.host.use(sessions(ctx.settings).credentials);
  return {
    endpoint: ctx.settings.endpoints[creds.interface ?? 'public'],
    keystone: sessions(ctx.settings, ctx.secrets.GLANCE_PASS).keystone,
    log: ctx.profile.services.find((x) => x.name === 'glance-api')?.log ?? '/var/log/glance/glance-api.log',
    ...(creds.tls ? { tls: creds.tls } : {}),
    uploads: ctx.profile.uploads,
    ...(ctx.settings.verifyImage ? { image: ctx.settings.verifyImage } : {}),
    ...(ctx.settings.keepImage ? { keep: true } : {}),
  };
};

/**
 * The database session for the warm-up: at once when the facts do not read MariaDB (the operator named
 * the admin's password); else once they are in, only if their read did not get in (Ubuntu 14.04: root has
 * no socket login, and sshd no socket forward, which the run then says). Either way the socket is tried
 * first, the release being unknown yet.
 */
function dbAdminUnlessRead(settings: GlanceSettings): Provider<unknown> {
  const dbAdmin = sessions(settings).dbAdmin;
  const snapshot = glanceMysqlSnapshot(settings);
  if (!snapshot) return dbAdmin;
  return {
    key: `${dbAdmin.key} unless the facts read MariaDB`,
    async open(host) {
      if (!(await snapshotOf(host, snapshot))) await host.use(dbAdmin);
      return true;
    },
  };
}

export const glancePlaybook: Playbook<GlanceSettings, GlanceProfile> = {
  id: 'glance',
  describe: 'the Image service (Glance), as the install guide sets it up',
  profiles,
  profileFor,
  options,
  settings: glanceSettings,
  secrets: [
    { name: 'GLANCE_DBPASS', describe: 'the password of the glance database account', generate: () => generatePassword(), problem: dbPasswordProblem },
    { name: 'GLANCE_PASS', describe: 'the password of the glance user in Keystone', generate: () => generatePassword(), problem: keystonePasswordProblem },
  ],
  // With none on the operator's side, the passwords glance-api.conf already holds, proven (adopt.ts).
  adoptSecrets: adoptGlanceSecrets,
  // The preflight's facts come in the same round trip; the names it looks up are the settings'.
  facts: (settings) => [...glanceFacts(), ...preflightFacts(settings), ...[glanceMysqlSnapshot(settings)].filter((f) => f !== undefined)],
  preflight: glancePreflight,
  // Opened while the facts are gathered (they need nothing from them): the reads the last run made, asked
  // again (read-ahead.ts), first; then the database session, unless the facts read MariaDB themselves
  // (then a run that changes nothing there opens none).
  warm: (settings) => [readsAhead({ playbook: 'glance' }), dbAdminUnlessRead(settings)],
  resources,
  handlers(ctx) {
    const keystone = sessions(ctx.settings, ctx.secrets.GLANCE_PASS).keystone;
    // The schema first; then, in the profile's order, the registry (Juno) answers before the API that uses it is restarted.
    return [
      schemaSyncHandler(SYNC_SCHEMA, schema(ctx), SCHEMA_SYNC),
      ...ctx.profile.services.map((x) => restartService({ ...x, ready: x.name === 'glance-api' ? glanceApiReady(x, keystone) : x.name === 'glance-registry' ? glanceRegistryReady(x) : undefined })),
    ];
  },
  check: {
    quick: async (ctx) => checkGlance(ctx.host, await verifyTarget(ctx), { full: false }),
    full: async (ctx) => checkGlance(ctx.host, await verifyTarget(ctx), { full: true }),
  },
};
