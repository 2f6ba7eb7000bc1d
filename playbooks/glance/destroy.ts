// The tear-down: the same resources as the Glance playbook, with a desired state of absent, in the
// reverse order: the service's identity in Keystone, the database and its accounts, the service
// stopped, the packages purged, what is left of the config and state, then the local secrets.
import type { Playbook } from '../../src/engine/playbook.ts';
import type { Resource } from '../../src/engine/resource.ts';
import { inLane } from '../../src/engine/resource.ts';
import { TARGET_STATE_DIR } from '../../src/state-paths.ts';
import { mysqlDatabase } from '../../src/resources/mysql-database.ts';
import { mysqlUser } from '../../src/resources/mysql-user.ts';
import { keystoneUser } from '../../src/resources/keystone-user.ts';
import { keystoneRoleAssignment } from '../../src/resources/keystone-role-assignment.ts';
import { keystoneService } from '../../src/resources/keystone-service.ts';
import { keystoneEndpoints } from '../../src/resources/keystone-endpoints.ts';
import { aptPackages } from '../../src/resources/apt-packages.ts';
import { dpkgHealth } from '../../src/resources/dpkg-health.ts';
import { iniFile } from '../../src/resources/ini-file.ts';
import { service } from '../../src/resources/service.ts';
import { pathAbsent } from '../../src/resources/path-absent.ts';
import { profiles, profileFor, type GlanceProfile } from './profiles.ts';
import { options, glanceSettings, regionFor, type GlanceSettings } from './settings.ts';
import { sessions } from './sessions.ts';
import { glanceFacts } from './facts.ts';
import { readsAhead } from '../../src/providers/read-ahead.ts';

export const glanceDestroyPlaybook: Playbook<GlanceSettings, GlanceProfile> = {
  id: 'glance-destroy',
  describe: 'removes what the glance playbook made',
  profiles,
  profileFor,
  options,
  settings: glanceSettings,
  secrets: [],
  facts: glanceFacts(),
  warm: (settings) => [readsAhead({ playbook: 'glance-destroy' }), sessions(settings).dbAdmin],
  async resources({ host, profile, settings: st }): Promise<Resource[]> {
    const s = sessions(st, undefined, profile);
    const absent = { ensure: 'absent' as const };
    const region = regionFor(st, profile, (await host.use(s.credentials)).regionName);
    return [
      inLane('identity', keystoneEndpoints({ service: st.service, urls: st.endpoints, region, keystone: s.keystone, ...absent })),
      inLane('identity', keystoneService({ ...st.service, keystone: s.keystone, ...absent })),
      inLane('identity', keystoneRoleAssignment({ user: st.keystoneUser, domainId: st.domainId, project: st.serviceProject, role: st.role, keystone: s.keystone, ...absent })),
      inLane('identity', keystoneUser({ name: st.keystoneUser, domainId: st.domainId, keystone: s.keystone, ...absent })),
      inLane('database', mysqlUser({ user: st.dbUser, host: '%', database: st.database, admin: s.dbAdmin, ...absent })),
      inLane('database', mysqlUser({ user: st.dbUser, host: 'localhost', database: st.database, admin: s.dbAdmin, ...absent })),
      inLane('database', mysqlDatabase({ name: st.database, admin: s.dbAdmin, ...absent })),
      ...[...profile.services].reverse().map((x) => service({ ...x, state: 'stopped' })),
      // A purge needs a dpkg that is not half-way through something else.
      dpkgHealth({ lockTimeoutSec: st.dpkgLockTimeoutSec }),
      aptPackages({ id: 'glance', packages: profile.purge, lockTimeoutSec: st.dpkgLockTimeoutSec, ...absent }),
      ...profile.configs.map((c) => iniFile({ path: c.path, template: '', vars: {}, owner: 'root:glance', mode: 0o640, ...absent })),
      pathAbsent('/etc/glance'),
      pathAbsent(TARGET_STATE_DIR),
    ];
  },
  handlers: () => [],
  forgetsSecrets: true,
};
