// What the operator wants, beyond the release's facts: names, URLs and region. Defaults follow the seed.
export interface Settings {
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
}

export function defaultSettings(overrides: Partial<Pick<Settings, 'controller' | 'region'>> & { endpointUrl?: string } = {}): Settings {
  const controller = overrides.controller ?? 'controller';
  const url = overrides.endpointUrl ?? `http://${controller}:9292`;
  return {
    controller,
    region: overrides.region ?? 'RegionOne',
    endpoints: { public: url, internal: url, admin: url },
    database: 'glance',
    dbUser: 'glance',
    keystoneUser: 'glance',
    domainId: 'default',
    serviceProject: 'service',
    role: 'admin',
    service: { name: 'glance', type: 'image', description: 'OpenStack Image Service' },
  };
}
