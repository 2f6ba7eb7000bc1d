// What the operator wants beyond the release's facts: names, URLs and region (defaults follow the
// install guide), where the cloud admin's credentials come from, and the command-line options they come from.
import type { OptionSpec } from '../../src/engine/playbook.ts';
import type { CredentialOptions } from '../../src/providers/admin-credentials.ts';
import type { DiskFormat } from '../../src/images/detect.ts';

export interface GlanceSettings {
  /** The name other services and the endpoints use for this controller. */
  controller: string;
  /** --region; when not given, the credentials' region (region_name, OS_REGION_NAME), else the release guide's. */
  region?: string;
  endpoints: { public: string; internal: string; admin: string };
  database: string;
  dbUser: string;
  keystoneUser: string;
  domainId: string;
  serviceProject: string;
  role: string;
  service: { name: string; type: string; description: string };
  /** Seconds to wait for another process (unattended-upgrades) that holds dpkg's lock before giving up. */
  dpkgLockTimeoutSec: number;
  /** Where the admin credentials come from (--os-cloud, --openrc, OS_*, the controller's openrc) and what to trust. */
  credentials: CredentialOptions;
  /**
   * A local file holding MariaDB root's password, for a server whose root logs in by password only
   * (MySQL 5.5 on Ubuntu 14.04); without it the maintenance account of /etc/mysql/debian.cnf is used.
   */
  dbAdminPasswordFile?: string;
  /** `verify --image FILE [--disk-format F]`: the operator's image to upload instead of the generated qcow2. */
  verifyImage?: { path: string; diskFormat?: DiskFormat };
  /** `verify --keep`: the uploaded image stays (its id is printed). */
  keepImage?: boolean;
}

/** The region to use on a host: the operator's, else the credentials', else the one its release's guide names. */
export const regionFor = (settings: Pick<GlanceSettings, 'region'>, profile: { region: string }, credentialsRegion?: string): string =>
  settings.region ?? credentialsRegion ?? profile.region;

export const options: OptionSpec[] = [
  { name: 'controller', type: 'string', default: 'controller', describe: 'the name the endpoints and config use for the controller' },
  { name: 'region', type: 'string', describe: 'Keystone region of the endpoints (default: the credentials\' region, else the release guide\'s: RegionOne, regionOne on juno)' },
  { name: 'endpoint-url', type: 'string', describe: 'Glance endpoint URL (default http://<controller>:9292)' },
  { name: 'os-cloud', type: 'string', describe: 'admin credentials: this cloud of clouds.yaml (default $OS_CLOUD)' },
  { name: 'openrc', type: 'string', describe: 'admin credentials: this openrc on the controller' },
  { name: 'os-cacert', type: 'string', describe: 'CA file (PEM, here) of an https Keystone (default: $OS_CACERT, cacert:)' },
  { name: 'insecure', type: 'boolean', describe: 'do not check an https Keystone\'s certificate (loud; not for production)' },
  { name: 'db-admin-password-file', type: 'string', describe: 'a file holding MariaDB root\'s password, for a server whose root logs in by password only (default: /etc/mysql/debian.cnf on the controller, or root by unix socket)' },
  { name: 'dpkg-lock-timeout', type: 'number', default: 300, describe: 'seconds to wait for apt/dpkg held by another process (unattended-upgrades)' },
];

export function glanceSettings(values: Readonly<Record<string, unknown>>, env: Readonly<Record<string, string | undefined>>): GlanceSettings {
  const controller = typeof values.controller === 'string' && values.controller ? values.controller : 'controller';
  const url = typeof values['endpoint-url'] === 'string' && values['endpoint-url'] ? values['endpoint-url'] : `http://${controller}:9292`;
  return {
    controller,
    ...(typeof values.region === 'string' && values.region ? { region: values.region } : {}),
    endpoints: { public: url, internal: url, admin: url },
    database: 'glance',
    dbUser: 'glance',
    keystoneUser: 'glance',
    domainId: 'default',
    serviceProject: 'service',
    role: 'admin',
    service: { name: 'glance', type: 'image', description: 'OpenStack Image Service' },
    dpkgLockTimeoutSec: typeof values['dpkg-lock-timeout'] === 'number' && values['dpkg-lock-timeout'] >= 0 ? values['dpkg-lock-timeout'] : 300,
    credentials: {
      ...(str(values['os-cloud']) ? { osCloud: str(values['os-cloud']) } : {}),
      ...(str(values.openrc) ? { openrc: str(values.openrc) } : {}),
      ...(str(values['os-cacert']) ? { osCacert: str(values['os-cacert']) } : {}),
      ...(values.insecure === true ? { insecure: true } : {}),
      env,
    },
    ...(str(values['db-admin-password-file']) ? { dbAdminPasswordFile: str(values['db-admin-password-file']) } : {}),
    ...(str(values.image) ? { verifyImage: { path: str(values.image)!, ...(str(values['disk-format']) ? { diskFormat: str(values['disk-format']) as DiskFormat } : {}) } } : {}),
    ...(values.keep === true ? { keepImage: true } : {}),
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
