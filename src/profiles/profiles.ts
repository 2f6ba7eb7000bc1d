// Release facts as data, not branches in code: which packages, services, config files, init system,
// Keystone API, SQL dialect and schema tool a release has. The engine and resources read these.

export type ProfileId = 'juno' | 'bullseye' | 'bookworm' | 'trixie';

export interface ServiceFacts {
  name: string;
  /** Where the init script leaves the pid, to tell running from not and restarted from not. */
  pidfiles: string[];
  log: string;
  /** The TCP port it listens on, freed before a restart starts it again. */
  port?: number;
  /** The config files whose change needs this service restarted. */
  configs: string[];
}

export interface Profile {
  id: ProfileId;
  /** os-release VERSION_CODENAME values this profile serves. */
  codenames: string[];
  packages: string[];
  /** debconf answers given before the packages install, so they configure nothing behind our back. */
  preseed: string[];
  configs: { path: string; template: string }[];
  /** Config files this release does not have, said in one line by the plan. */
  absentConfigs: string[];
  services: ServiceFacts[];
  keystoneApi: 'v3' | 'v2.0';
  schema: { tool: 'alembic'; versionsDir: string } | { tool: 'migrate'; versionsDir: string };
  glanceApiPort: number;
}

const debianPreseed = [
  'glance-common glance/configure_db boolean false',
  'glance-common glance/configure_rabbit boolean false',
  'glance-common glance/configure_ksat boolean false',
  'glance-api glance/configure_api-endpoint boolean false',
];

const modernDebian = (id: ProfileId, codename: string): Profile => ({
  id,
  codenames: [codename],
  packages: ['glance', 'python3-glanceclient'],
  preseed: debianPreseed,
  configs: [{ path: '/etc/glance/glance-api.conf', template: `${id}/glance-api.conf` }],
  absentConfigs: ['/etc/glance/glance-registry.conf (glance-registry was removed upstream in Ussuri)'],
  services: [{
    name: 'glance-api',
    pidfiles: ['/run/glance/glance-api.pid', '/var/run/glance/glance-api.pid'],
    log: '/var/log/glance/glance-api.log',
    port: 9292,
    configs: ['/etc/glance/glance-api.conf'],
  }],
  keystoneApi: 'v3',
  schema: { tool: 'alembic', versionsDir: '/usr/lib/python3/dist-packages/glance/db/sqlalchemy/alembic_migrations/versions' },
  glanceApiPort: 9292,
});

export const profiles: Record<ProfileId, Profile> = {
  bullseye: modernDebian('bullseye', 'bullseye'),
  bookworm: modernDebian('bookworm', 'bookworm'),
  trixie: modernDebian('trixie', 'trixie'),
  juno: {
    id: 'juno',
    codenames: ['trusty'],
    packages: ['glance', 'python-glanceclient'],
    preseed: [],
    configs: [
      { path: '/etc/glance/glance-api.conf', template: 'juno/glance-api.conf' },
      { path: '/etc/glance/glance-registry.conf', template: 'juno/glance-registry.conf' },
    ],
    absentConfigs: [],
    services: [
      { name: 'glance-registry', pidfiles: [], log: '/var/log/glance/registry.log', port: 9191, configs: ['/etc/glance/glance-registry.conf'] },
      { name: 'glance-api', pidfiles: [], log: '/var/log/glance/api.log', port: 9292, configs: ['/etc/glance/glance-api.conf'] },
    ],
    keystoneApi: 'v2.0',
    schema: { tool: 'migrate', versionsDir: '/usr/lib/python2.7/dist-packages/glance/db/sqlalchemy/migrate_repo/versions' },
    glanceApiPort: 9292,
  },
};

export function profileFor(codename: string): Profile | undefined {
  return Object.values(profiles).find((p) => p.codenames.includes(codename));
}
