// What the operator wants beyond the release's facts: names, URLs and region (defaults follow the
// install guide), and the command-line options they come from.
import type { OptionSpec } from '../../src/engine/playbook.ts';

export interface GlanceSettings {
  /** The name other services and the endpoints use for this controller. */
  controller: string;
  region: string;
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
  /** The operator's environment: OS_* admin credentials, when set, win over the controller's openrc. */
  env: Readonly<Record<string, string | undefined>>;
}

export const options: OptionSpec[] = [
  { name: 'controller', type: 'string', default: 'controller', describe: 'the name the endpoints and config use for the controller' },
  { name: 'region', type: 'string', default: 'RegionOne', describe: 'the Keystone region of the endpoints' },
  { name: 'endpoint-url', type: 'string', describe: 'Glance endpoint URL (default http://<controller>:9292)' },
  { name: 'dpkg-lock-timeout', type: 'number', default: 300, describe: 'seconds to wait for another process holding the package manager (unattended-upgrades) before giving up' },
];

export function glanceSettings(values: Readonly<Record<string, unknown>>, env: Readonly<Record<string, string | undefined>>): GlanceSettings {
  const controller = typeof values.controller === 'string' && values.controller ? values.controller : 'controller';
  const url = typeof values['endpoint-url'] === 'string' && values['endpoint-url'] ? values['endpoint-url'] : `http://${controller}:9292`;
  return {
    controller,
    region: typeof values.region === 'string' && values.region ? values.region : 'RegionOne',
    endpoints: { public: url, internal: url, admin: url },
    database: 'glance',
    dbUser: 'glance',
    keystoneUser: 'glance',
    domainId: 'default',
    serviceProject: 'service',
    role: 'admin',
    service: { name: 'glance', type: 'image', description: 'OpenStack Image Service' },
    dpkgLockTimeoutSec: typeof values['dpkg-lock-timeout'] === 'number' && values['dpkg-lock-timeout'] >= 0 ? values['dpkg-lock-timeout'] : 300,
    env,
  };
}
