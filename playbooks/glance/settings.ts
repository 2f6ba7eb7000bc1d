// What the operator wants beyond the release's facts: names, URLs and region (defaults follow the
// install guide), and the command-line options they come from.
import type { OptionSpec } from '../../src/engine/playbook.ts';

export interface GlanceSettings {
  /** The name other services and the endpoints use for this controller. */
  controller: string;
  /** --region; undefined: the release profile's (the guide's) region. */
  region?: string;
  endpoints: { public: string; internal: string; admin: string };
  database: string;
  dbUser: string;
  keystoneUser: string;
  domainId: string;
  serviceProject: string;
  role: string;
  service: { name: string; type: string; description: string };
  /**
   * A local file holding MariaDB root's password, for a server whose root logs in by password only
   * (MySQL 5.5 on Ubuntu 14.04); without it the maintenance account of /etc/mysql/debian.cnf is used.
   */
  dbAdminPasswordFile?: string;
  /** The operator's environment: OS_* admin credentials, when set, win over the controller's openrc. */
  env: Readonly<Record<string, string | undefined>>;
}

export const options: OptionSpec[] = [
  { name: 'controller', type: 'string', default: 'controller', describe: 'the name the endpoints and config use for the controller' },
  { name: 'region', type: 'string', describe: 'the Keystone region of the endpoints (default: the release guide\'s: RegionOne, regionOne on juno)' },
  { name: 'endpoint-url', type: 'string', describe: 'Glance endpoint URL (default http://<controller>:9292)' },
  { name: 'db-admin-password-file', type: 'string', describe: 'a file holding MariaDB root\'s password, for a server whose root logs in by password only (default: /etc/mysql/debian.cnf on the controller, or root by unix socket)' },
];

export function glanceSettings(values: Readonly<Record<string, unknown>>, env: Readonly<Record<string, string | undefined>>): GlanceSettings {
  const controller = typeof values.controller === 'string' && values.controller ? values.controller : 'controller';
  const url = typeof values['endpoint-url'] === 'string' && values['endpoint-url'] ? values['endpoint-url'] : `http://${controller}:9292`;
  return {
    controller,
    region: typeof values.region === 'string' && values.region ? values.region : undefined,
    endpoints: { public: url, internal: url, admin: url },
    database: 'glance',
    dbUser: 'glance',
    keystoneUser: 'glance',
    domainId: 'default',
    serviceProject: 'service',
    role: 'admin',
    service: { name: 'glance', type: 'image', description: 'OpenStack Image Service' },
    dbAdminPasswordFile: typeof values['db-admin-password-file'] === 'string' && values['db-admin-password-file'] ? values['db-admin-password-file'] : undefined,
    env,
  };
}

/** The region to use on a host: the operator's, else the one its release's guide names. */
export const regionFor = (settings: Pick<GlanceSettings, 'region'>, profile: { region: string }): string => settings.region ?? profile.region;
