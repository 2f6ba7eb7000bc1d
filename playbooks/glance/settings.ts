// What the operator wants beyond the release's facts: names, URLs and region (defaults follow the
// install guide), where the cloud admin's credentials come from, and the command-line options they come from.
import type { OptionSpec } from '../../src/engine/playbook.ts';
import type { CredentialOptions } from '../../src/providers/admin-credentials.ts';

export interface GlanceSettings {
  /** The name other services and the endpoints use for this controller. */
  controller: string;
  /** --region; when not given, the credentials' region (region_name, OS_REGION_NAME), else RegionOne. */
  region?: string;
  endpoints: { public: string; internal: string; admin: string };
  database: string;
  dbUser: string;
  keystoneUser: string;
  domainId: string;
  serviceProject: string;
  role: string;
  service: { name: string; type: string; description: string };
  /** Where the admin credentials come from (--os-cloud, --openrc, OS_*, the controller's openrc) and what to trust. */
  credentials: CredentialOptions;
}

export const DEFAULT_REGION = 'RegionOne';

export const options: OptionSpec[] = [
  { name: 'controller', type: 'string', default: 'controller', describe: 'the name the endpoints and config use for the controller' },
  { name: 'region', type: 'string', describe: 'Keystone region of the endpoints (default: the credentials\' region, else RegionOne)' },
  { name: 'endpoint-url', type: 'string', describe: 'Glance endpoint URL (default http://<controller>:9292)' },
  { name: 'os-cloud', type: 'string', describe: 'admin credentials: this cloud of clouds.yaml (default $OS_CLOUD)' },
  { name: 'openrc', type: 'string', describe: 'admin credentials: this openrc on the controller' },
  { name: 'os-cacert', type: 'string', describe: 'CA file (PEM, here) of an https Keystone (default: $OS_CACERT, cacert:)' },
  { name: 'insecure', type: 'boolean', describe: 'do not check an https Keystone\'s certificate (loud; not for production)' },
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
    credentials: {
      ...(str(values['os-cloud']) ? { osCloud: str(values['os-cloud']) } : {}),
      ...(str(values.openrc) ? { openrc: str(values.openrc) } : {}),
      ...(str(values['os-cacert']) ? { osCacert: str(values['os-cacert']) } : {}),
      ...(values.insecure === true ? { insecure: true } : {}),
      env,
    },
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
