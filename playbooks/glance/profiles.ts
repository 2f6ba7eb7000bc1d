// Glance's release facts as data, not branches in code: packages, services, config files, Keystone
// API, schema tool. The playbook reads these; the engine knows only `id` and `notes`.
import type { ProfileBase } from '../../src/engine/playbook.ts';
import type { OsFacts } from '../../src/engine/facts.ts';
import type { RetiredKeys } from '../../src/resources/ini-file.ts';

export type ProfileId = 'juno' | 'bullseye' | 'bookworm' | 'trixie';

/** Where glance-api finds the CA of an https Keystone (placed by the playbook: /root's copy is not its to read). */
/** The schema sync of every release: glance-manage's, as the glance user. */
export const SCHEMA_SYNC = { command: 'glance-manage db_sync', user: 'glance' } as const;

export const KEYSTONE_CA = '/etc/glance/keystone-ca.pem';

export interface GlanceService {
  name: string;
  /**
   * Where the init script leaves the pid, to tell running from not and restarted from not. An upstart
   * job (Ubuntu 14.04) has none: its pid comes from `initctl status` (src/resources/service.ts).
   */
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
  /** Keys of older releases the template removes, named in the plan when the file still has them. */
  retired?: RetiredKeys[];
}

/**
 * The Juno guide's [keystone_authtoken] (keystonemiddleware 1.x), left by an operator who moved a Juno
 * controller by hand. Today's keystonemiddleware still reads them: with no auth_type it logs in the old
 * way (Keystone v2.0 at identity_uri, gone since Queens), cannot validate any token, and glance-api answers
 * every request 401 (seen on a bookworm lab: "Unable to validate token" / "Token authorization failed").
 */
export const JUNO_AUTHTOKEN: RetiredKeys = {
  section: 'keystone_authtoken',
  keys: ['auth_uri', 'identity_uri', 'admin_user', 'admin_password', 'admin_tenant_name'],
  why: 'Juno-era keystone_authtoken keys (auth_uri, identity_uri, admin_*): glance-api refuses every token with them (401); replaced by the current ones',
};

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
  /**
   * The identity API of the release's Keystone. 'v2.0' (Juno): the admin's openrc is the guide's v2.0 one,
   * used as v3 on the same host and port; endpoints are written through v2.0 when the admin port serves
   * it (src/providers/keystone.ts).
   */
  keystoneApi: 'v3' | 'v2.0';
  schema: { tool: 'alembic' | 'migrate'; versionsDir: string };
  glanceApiPort: number;
  /** The region the release's guide names, when the operator gives none (--region). */
  region: string;
  /**
   * How the database admin reaches the server first (the other way is tried when it fails): 'socket' is
   * MariaDB's unix socket through sshd's stream-local forward, root by unix_socket; 'tcp' is 127.0.0.1:3306
   * through a TCP forward, as the maintenance account of /etc/mysql/debian.cnf or root with a password
   * (OpenSSH before 6.7 has no stream-local forward, MySQL 5.5 no unix_socket login).
   */
  dbAdmin: 'socket' | 'tcp';
  /**
   * The account statements of the release's database server, when the profile knows them better than the
   * server's version string: Juno's servers are MySQL/MariaDB 5.5 (GRANT … IDENTIFIED BY), which every
   * later MariaDB still takes.
   */
  sqlDialect?: 'create-user' | 'grant-identified';
  /** Files the guide removes once the service uses the real database (absent: nothing). */
  leftovers: string[];
  /** What to do when apt cannot find the packages (they come from elsewhere than the distribution). */
  packageSource?: string;
  /** What the release's Glance does with the bytes of an upload, read from its glance/location.py (set_data). */
  uploads: UploadFacts;
}

export interface UploadFacts {
  /**
   * 'none': stored as sent (Juno, 2014.2: no inspector, virtual_size stays null).
   * 'virtual-size': a disk_format it has an inspector for (raw, qcow2, vhd, vhdx, vmdk, vdi, qed) with
   * container_format bare is read on the way to the store for its virtual size; a mismatch is only logged
   * (glance.common.format_inspector.InfoWrapper: Glance 21 on bullseye, 25 on bookworm).
   * 'enforced': every bare upload goes through oslo.utils' InspectWrapper; a disk_format the bytes do not match
   * (raw excepted) or a failed safety check (a qcow2 backing file or data file, unknown feature bits) makes the
   * upload fail with 400 while [image_format] require_image_format_match is true, its default (Glance 30 on trixie).
   */
  inspection: 'none' | 'virtual-size' | 'enforced';
  /** os_hash_algo / os_hash_value are computed on upload ([DEFAULT] hashing_algorithm, sha512 by default; Rocky and later). */
  multihash: boolean;
}

const debianPreseed = [
  'glance-common glance/configure_db boolean false',
  'glance-common glance/configure_rabbit boolean false',
  'glance-common glance/configure_ksat boolean false',
  'glance-api glance/configure_api-endpoint boolean false',
];

const modernDebian = (id: ProfileId, codename: string, inspection: UploadFacts['inspection']): GlanceProfile => ({
  id,
  codenames: [codename],
  packages: ['glance', 'python3-glanceclient'],
  purge: ['glance', 'glance-api', 'glance-common', 'python3-glance', 'python3-glance-store', 'glance-store-common', 'python3-glanceclient'],
  preseed: debianPreseed,
  configs: [{ path: '/etc/glance/glance-api.conf', template: `${id}/glance-api.conf`, restarts: 'glance-api', retired: [JUNO_AUTHTOKEN] }],
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
  region: 'RegionOne',
  dbAdmin: 'socket',
  leftovers: [],
  uploads: { inspection, multihash: true },
});

export const profiles: Record<ProfileId, GlanceProfile> = {
  bullseye: modernDebian('bullseye', 'bullseye', 'virtual-size'),
  bookworm: modernDebian('bookworm', 'bookworm', 'virtual-size'),
  trixie: modernDebian('trixie', 'trixie', 'enforced'),
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
    // The guide's `keystone endpoint-create --region regionOne` (python-keystoneclient's default too).
    region: 'regionOne',
    dbAdmin: 'tcp',
    sqlDialect: 'grant-identified',
    // The guide: "By default, the Ubuntu packages create an SQLite database … you can remove the SQLite database file".
    leftovers: ['/var/lib/glance/glance.sqlite'],
    uploads: { inspection: 'none', multihash: false },
    packageSource: "Juno's packages come from the Ubuntu Cloud Archive: on Ubuntu 14.04 run apt-get install ubuntu-cloud-keyring && add-apt-repository cloud-archive:juno && apt-get update, then run again",
  },
};

export function profileFor(os: OsFacts): GlanceProfile | undefined {
  return Object.values(profiles).find((p) => p.codenames.includes(os.codename));
}
