// Glance's release facts as data, not branches in code: packages, services, config files, Keystone
// API, schema tool. The playbook reads these; the engine knows only `id` and `notes`.
import type { ProfileBase } from '../../src/engine/playbook.ts';
import type { OsFacts } from '../../src/engine/facts.ts';

export type ProfileId = 'juno' | 'bullseye' | 'bookworm' | 'trixie';

export interface GlanceService {
  name: string;
  /** Where the init script leaves the pid, to tell running from not and restarted from not. */
  pidfiles: string[];
  log: string;
  /** The TCP port it listens on, freed before a restart starts it again. */
  port: number;
  /**
   * The daemon run by hand, to hear why it does not start: its init script sends stderr nowhere, and a
   * bad option value is said only there ("ERROR: Value for option default_store … is not valid").
   */
  foreground?: { user: string; command: string };
}

export interface GlanceConfig {
  path: string;
  /** Under playbooks/glance/templates/. */
  template: string;
  /** The service a change of this file restarts. */
  restarts: string;
}

export interface GlanceProfile extends ProfileBase {
  id: ProfileId;
  /** os-release VERSION_CODENAME values this profile serves. */
  codenames: string[];
  packages: string[];
  /** What a tear-down purges: the packages above and those they are made of. */
  purge: string[];
  /** debconf answers given before the packages install, so they configure nothing behind our back. */
  preseed: string[];
  configs: GlanceConfig[];
  /** In restart order: a registry before the API that uses it. */
  services: GlanceService[];
  keystoneApi: 'v3' | 'v2.0';
  schema: { tool: 'alembic' | 'migrate'; versionsDir: string };
  glanceApiPort: number;
}

const debianPreseed = [
  'glance-common glance/configure_db boolean false',
  'glance-common glance/configure_rabbit boolean false',
  'glance-common glance/configure_ksat boolean false',
  'glance-api glance/configure_api-endpoint boolean false',
];

const modernDebian = (id: ProfileId, codename: string): GlanceProfile => ({
  id,
  codenames: [codename],
  packages: ['glance', 'python3-glanceclient'],
  purge: ['glance', 'glance-api', 'glance-common', 'python3-glance', 'python3-glance-store', 'glance-store-common', 'python3-glanceclient'],
  preseed: debianPreseed,
  configs: [{ path: '/etc/glance/glance-api.conf', template: `${id}/glance-api.conf`, restarts: 'glance-api' }],
  notes: ['not on this release: /etc/glance/glance-registry.conf (glance-registry was removed upstream in Ussuri)'],
  services: [{
    name: 'glance-api',
    pidfiles: ['/run/glance/glance-api.pid', '/var/run/glance/glance-api.pid'],
    log: '/var/log/glance/glance-api.log',
    port: 9292,
    foreground: { user: 'glance', command: 'glance-api --config-file=/etc/glance/glance-api.conf' },
  }],
  keystoneApi: 'v3',
  schema: { tool: 'alembic', versionsDir: '/usr/lib/python3/dist-packages/glance/db/sqlalchemy/alembic_migrations/versions' },
  glanceApiPort: 9292,
});

export const profiles: Record<ProfileId, GlanceProfile> = {
  bullseye: modernDebian('bullseye', 'bullseye'),
  bookworm: modernDebian('bookworm', 'bookworm'),
  trixie: modernDebian('trixie', 'trixie'),
  juno: {
    id: 'juno',
    codenames: ['trusty'],
    packages: ['glance', 'python-glanceclient'],
    purge: ['glance', 'glance-api', 'glance-registry', 'glance-common', 'python-glance', 'python-glance-store', 'python-glanceclient'],
    preseed: [],
    configs: [
      { path: '/etc/glance/glance-api.conf', template: 'juno/glance-api.conf', restarts: 'glance-api' },
      { path: '/etc/glance/glance-registry.conf', template: 'juno/glance-registry.conf', restarts: 'glance-registry' },
    ],
    services: [
      { name: 'glance-registry', pidfiles: [], log: '/var/log/glance/registry.log', port: 9191 },
      { name: 'glance-api', pidfiles: [], log: '/var/log/glance/api.log', port: 9292 },
    ],
    keystoneApi: 'v2.0',
    schema: { tool: 'migrate', versionsDir: '/usr/lib/python2.7/dist-packages/glance/db/sqlalchemy/migrate_repo/versions' },
    glanceApiPort: 9292,
  },
};

export function profileFor(os: OsFacts): GlanceProfile | undefined {
  return Object.values(profiles).find((p) => p.codenames.includes(os.codename));
}
