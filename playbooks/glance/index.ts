// The install guide's Glance chapter as a playbook: the database and its grants, the service's
// identity in Keystone, the packages, the config files, the schema, the services running, and a
// closing check that an image goes through. Resources are listed in the guide's order.
import fs from 'node:fs';
import type { Playbook, PlaybookContext } from '../../src/engine/playbook.ts';
import type { Resource } from '../../src/engine/resource.ts';
import { inLane } from '../../src/engine/resource.ts';
import { EngineError } from '../../src/engine/errors.ts';
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
import { service } from '../../src/resources/service.ts';
import { restartService } from '../../src/resources/service-control.ts';
import { profiles, profileFor, type GlanceProfile } from './profiles.ts';
import { options, glanceSettings, type GlanceSettings } from './settings.ts';
import { sessions } from './sessions.ts';
import { glanceFacts } from './facts.ts';
import { glanceApiReady } from './readiness.ts';
import { checkGlance } from './verify.ts';

type Ctx = PlaybookContext<GlanceSettings, GlanceProfile>;

export function template(name: string): string {
  return fs.readFileSync(projectPath('playbooks', 'glance', 'templates', name), 'utf8');
}

const restartOf = (service: string) => `restart-${service}`;

/** The values of the templates' placeholders. The passwords stay Secrets: the files' diffs mask them. */
async function templateVars(ctx: Ctx): Promise<Record<string, string | import('../../src/secret.ts').Secret>> {
  const { settings, secrets } = ctx;
  const keystone = new URL((await ctx.host.use(sessions(settings).credentials)).authUrl);
  return {
    GLANCE_DBPASS: secrets.GLANCE_DBPASS!,
    GLANCE_PASS: secrets.GLANCE_PASS!,
    CONTROLLER: settings.controller,
    REGION: settings.region,
    KEYSTONE_URL: `${keystone.protocol}//${keystone.host}`,
    // Juno's identity_uri: the admin API on its own port.
    KEYSTONE_ADMIN_URL: `${keystone.protocol}//${keystone.hostname}:35357`,
    DB_HOST: settings.controller,
  };
}

function refuseUnsupported(profile: GlanceProfile): void {
  if (profile.keystoneApi !== 'v3' || profile.schema.tool !== 'alembic') {
    throw new EngineError('keystone', `the ${profile.id} profile speaks Keystone ${profile.keystoneApi} and a ${profile.schema.tool} schema, which this version does not implement yet`,
      'use a controller running a Debian release (bullseye, bookworm, trixie)');
  }
}

async function resources(ctx: Ctx): Promise<Resource[]> {
  const { profile, settings: st, secrets } = ctx;
  refuseUnsupported(profile);
  const s = sessions(st, secrets.GLANCE_PASS);
  const restartAll = profile.services.map((x) => restartOf(x.name));
  const db = { database: st.database, password: secrets.GLANCE_DBPASS!, admin: s.dbAdmin };
  const vars = await templateVars(ctx);
  return [
    // 1. The database and its grants. (1, 2-3 and 4 do not depend on each other: they are applied side
    // by side, apt being the long one.)
    inLane('database', mysqlDatabase({ name: st.database, admin: s.dbAdmin })),
    inLane('database', mysqlUser({ user: st.dbUser, host: 'localhost', ...db })),
    inLane('database', mysqlUser({ user: st.dbUser, host: '%', ...db })),
    // 2-3. The service's identity: user, role, service, endpoints.
    inLane('identity', keystoneUser({ name: st.keystoneUser, domainId: st.domainId, password: secrets.GLANCE_PASS!, keystone: s.keystone })),
    inLane('identity', keystoneRoleAssignment({ user: st.keystoneUser, domainId: st.domainId, project: st.serviceProject, role: st.role, keystone: s.keystone })),
    inLane('identity', keystoneService({ ...st.service, keystone: s.keystone })),
    inLane('identity', keystoneEndpoints({ service: st.service, urls: st.endpoints, region: st.region, keystone: s.keystone })),
    // 4. Packages: first whatever an interrupted dpkg left half-done (apt installs nothing past it; finishing
    // it may configure Glance's own packages, whose new code runs only after a restart), then ours. New or
    // upgraded code only runs after a restart (the postinst's own start used the packaged config).
    inLane('packages', dpkgHealth({ lockTimeoutSec: st.dpkgLockTimeoutSec, notifies: restartAll })),
    inLane('packages', aptPackages({ id: 'glance', packages: profile.packages, preseed: profile.preseed, notifies: restartAll, lockTimeoutSec: st.dpkgLockTimeoutSec })),
    // 5-6. Configuration.
    ...profile.configs.map((c) => iniFile({
      path: c.path, template: template(c.template), vars, owner: 'root:glance', mode: 0o640, madeBy: 'the package', notifies: [restartOf(c.restarts)], backupDir: BACKUPS,
    })),
    // 7. Schema.
    alembicSchema({
      id: 'glance', database: st.database, versionsDir: profile.schema.versionsDir, sync: { command: 'glance-manage db_sync', user: 'glance' }, admin: s.dbAdmin, notifies: restartAll,
      hint: 'check [database] connection in /etc/glance/glance-api.conf and that MariaDB is up; the log is /var/log/glance/glance-manage.log',
    }),
    // 8. Services running (restarts are handlers, run once after what asked for them).
    ...profile.services.map((x) => service({ ...x, state: 'running', doneBy: restartOf(x.name) })),
  ];
}

const verifyTarget = (ctx: Ctx) => ({
  endpoint: ctx.settings.endpoints.public,
  keystone: sessions(ctx.settings, ctx.secrets.GLANCE_PASS).keystone,
  log: ctx.profile.services.find((x) => x.name === 'glance-api')?.log ?? '/var/log/glance/glance-api.log',
});

export const glancePlaybook: Playbook<GlanceSettings, GlanceProfile> = {
  id: 'glance',
  describe: 'the Image service (Glance), as the install guide sets it up',
  profiles,
  profileFor,
  options,
  settings: glanceSettings,
  secrets: [
    { name: 'GLANCE_DBPASS', describe: 'the password of the glance database account', generate: () => generatePassword() },
    { name: 'GLANCE_PASS', describe: 'the password of the glance user in Keystone', generate: () => generatePassword() },
  ],
  facts: glanceFacts(),
  // The database session needs nothing from the facts: open it while they are gathered.
  warm: (settings) => [sessions(settings).dbAdmin],
  resources,
  handlers(ctx) {
    const keystone = sessions(ctx.settings, ctx.secrets.GLANCE_PASS).keystone;
    return ctx.profile.services.map((x) => restartService({ ...x, ready: x.name === 'glance-api' ? glanceApiReady(x, keystone) : undefined }));
  },
  check: {
    quick: (ctx) => checkGlance(ctx.host, verifyTarget(ctx), { full: false }),
    full: (ctx) => checkGlance(ctx.host, verifyTarget(ctx), { full: true }),
  },
};
