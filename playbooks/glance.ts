// The seed's steps as a list of desired resources, in the order the install guide takes them.
import type { Resource } from '../src/engine/resource.ts';
import type { Profile } from '../src/profiles/profiles.ts';
import { mysqlDatabase } from '../src/resources/mysql-database.ts';
import { mysqlUser } from '../src/resources/mysql-user.ts';
import { keystoneUser, keystoneRoleAssignment, keystoneService, keystoneEndpoints } from '../src/resources/keystone.ts';
import { aptPackages } from '../src/resources/apt-packages.ts';
import { configFile } from '../src/resources/config-file.ts';
import { glanceSchema } from '../src/resources/glance-schema.ts';
import { serviceRunning } from '../src/resources/service.ts';

/** The same resource, in a lane that is applied beside the other lanes next to it. */
const inLane = <S>(lane: string, r: Resource<S>): Resource<S> => ({ ...r, lane });

export function glancePlaybook(profile: Profile): Resource[] {
  const dbPassword = { password: (ctx: { secrets: { glanceDbPass: import('../src/secret.ts').Secret } }) => ctx.secrets.glanceDbPass };
  return [
    // 1. The database and its grants.
    // (1, 2-3 and 4 do not depend on each other: they are applied side by side, apt being the long one.)
    inLane('database', mysqlDatabase('glance')),
    inLane('database', mysqlUser({ user: 'glance', host: 'localhost', database: 'glance', ...dbPassword })),
    inLane('database', mysqlUser({ user: 'glance', host: '%', database: 'glance', ...dbPassword })),
    // 2-3. The service's identity: user, role, service, endpoints.
    inLane('identity', keystoneUser()),
    inLane('identity', keystoneRoleAssignment()),
    inLane('identity', keystoneService()),
    inLane('identity', keystoneEndpoints()),
    // 4. Packages.
    inLane('packages', aptPackages()),
    // 5-6. Configuration.
    ...profile.configs.map((c) => configFile(c.path, c.template, c.path.includes('registry') ? 'glance-registry' : 'glance-api')),
    // 7. Schema.
    glanceSchema(),
    // 8. Services running (restarts are handlers, run once after what asked for them).
    ...profile.services.map((s) => serviceRunning(s.name)),
  ] as Resource[];
}
