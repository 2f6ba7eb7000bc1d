// The admin credentials of a cloud named in clouds.yaml, found and read as the openstack CLI finds and
// reads them (openstacksdk openstack/config/loader.py, OpenStackConfig): the first clouds.{yaml,yml,json}
// of the search path wins whole (cwd, $XDG_CONFIG_HOME/openstack, ~/.config/openstack, each of
// $XDG_CONFIG_DIRS/openstack, /etc/openstack; OS_CLIENT_CONFIG_FILE first), the first secure.* of the
// same path is merged into it key by key, a file that cannot be read or parsed is skipped (said in the
// warnings), and the cloud's keys go through the same fix-ups (tenant_* → project_*, domain_* → both
// domains, auth keys outside `auth:`, endpoint_type → interface, `-` → `_`, regions). Only password
// logins are done; anything else (tokens, application credentials, vendor profiles, client certificates)
// is refused by name rather than half-done. The YAML library loads only when a cloud is asked for.
import fs from 'node:fs';
import path from 'node:path';
import { Secret } from '../secret.ts';
import type { AdminCredentials } from './keystone-api.ts';

/** A clouds.yaml that does not give what is needed: what, where, and what to do. */
export class CloudsYamlError extends Error {
  readonly step = 'admin credentials';
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'CloudsYamlError';
  }
}

export interface CloudsSearch {
  /** The directory the command runs in (the first place searched). */
  cwd: string;
  home: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Where /etc is looked for (tests); default the root. */
  root?: string;
}

/** Everything the run needs of a cloud: its login, and how to reach Keystone. */
export interface CloudSettings {
  cloud: string;
  /** The clouds file the cloud is in, and the secure file merged into it (when one was found). */
  file: string;
  secureFile?: string;
  /** The login (no TLS trust yet: the caller reads the CA file). */
  creds: AdminCredentials;
  /** The CA file (as written, made absolute against cwd), on this machine. */
  cacert?: string;
  /** `verify: false` or `insecure: true`: no certificate check. */
  insecure: boolean;
  regionName?: string;
  interface?: Interface;
  identityApiVersion?: string;
  /** Files skipped, keys ignored: one line each, for the run's notes. */
  warnings: string[];
}

export type Interface = 'public' | 'internal' | 'admin';

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => v !== null && typeof v === 'object' && !Array.isArray(v);
/** Python's truth: None, False, 0, '', [] and {} are false. */
const truthy = (v: unknown): boolean => !(v === null || v === undefined || v === false || v === 0 || v === '' || (Array.isArray(v) && !v.length) || (isDict(v) && !Object.keys(v).length));
const has = (d: Dict, k: string) => Object.prototype.hasOwnProperty.call(d, k);

/** loader.py CONFIG_SEARCH_PATH on Linux: cwd, platformdirs' user and site config dirs, and the fixed ones. */
export function searchDirs(s: CloudsSearch): string[] {
  const xdgHome = s.env.XDG_CONFIG_HOME?.trim() ? s.env.XDG_CONFIG_HOME : path.join(s.home, '.config');
  const unixHome = path.join(s.env.SNAP_REAL_HOME || s.home, '.config', 'openstack');
  // platformdirs' site_config_dir(multipath=True): every XDG_CONFIG_DIRS entry, joined by ':' into one "dir",
  // which is only a real directory when there is one entry (the default, /etc/xdg).
  const root = s.root ?? '/';
  const site = (s.env.XDG_CONFIG_DIRS?.trim() ? s.env.XDG_CONFIG_DIRS : path.join(root, 'etc', 'xdg')).split(':').map((d) => path.join(d, 'openstack')).join(':');
  return [s.cwd, path.join(xdgHome, 'openstack'), unixHome, site, path.join(root, 'etc', 'openstack')];
}

/** The candidate files of one kind, in the order the first existing one wins. */
export function candidateFiles(kind: 'clouds' | 'secure', s: CloudsSearch): string[] {
  const override = s.env[kind === 'clouds' ? 'OS_CLIENT_CONFIG_FILE' : 'OS_CLIENT_SECURE_FILE'];
  const files = searchDirs(s).flatMap((d) => ['.yaml', '.yml', '.json'].map((x) => path.join(d, kind + x)));
  return override ? [override, ...files] : files;
}

interface Loaded {
  path: string;
  data: unknown;
}

/** The first candidate that exists and parses (loader.py _load_yaml_json_file); the skipped ones in `warnings`. */
async function loadFirst(files: readonly string[], warnings: string[]): Promise<Loaded | undefined> {
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') {
        warnings.push(`${file} skipped: permission denied`);
        continue;
      }
      throw new CloudsYamlError(`cannot read ${file}: ${(e as Error).message}`, 'fix the file or its permissions');
    }
    try {
      if (file.endsWith('json')) return { path: file, data: JSON.parse(text) as unknown };
      // YAML 1.1, as PyYAML's safe_load reads it (`yes` is true); a repeated key: the last one, as PyYAML.
      const { parse } = await import('yaml');
      return { path: file, data: parse(text, { version: '1.1', uniqueKeys: false }) as unknown };
    } catch (e) {
      warnings.push(`${file} skipped: not valid ${file.endsWith('json') ? 'JSON' : 'YAML'} (${(e as Error).message.split('\n')[0]})`);
    }
  }
  return undefined;
}

/** loader.py _validate_config_file: a file that holds something must be a mapping; one without `clouds:` is only warned about. */
function validate(f: Loaded | undefined, warnings: string[]): Dict | undefined {
  if (!f || !truthy(f.data)) return undefined;
  if (!isDict(f.data)) throw new CloudsYamlError(`configuration file ${f.path} is empty or not a valid mapping`, 'write it as the openstack CLI expects: a mapping with a `clouds:` key');
  if (!has(f.data, 'clouds')) warnings.push(`${f.path} has no \`clouds:\` key`);
  return f.data;
}

/** _util.merge_clouds: dict.update, nested mappings merged key by key. */
function mergeClouds(a: Dict, b: Dict): Dict {
  const ret: Dict = { ...a };
  for (const [k, v] of Object.entries(b)) ret[k] = isDict(v) ? (isDict(ret[k]) ? mergeClouds(ret[k], v) : { ...v }) : v;
  return ret;
}

export interface CloudsFiles {
  file?: string;
  secureFile?: string;
  /** The merged document's clouds, by name. */
  clouds: Dict;
  /** Whether the secure file has an entry for a cloud (to say where its password came from). */
  secureClouds: Dict;
  /** Every candidate looked at, for an error that says where nothing was found. */
  searched: string[];
  warnings: string[];
}

/** The clouds of the search path: the first clouds file, with the first secure file merged in. */
export async function loadCloudsFiles(s: CloudsSearch): Promise<CloudsFiles> {
  const warnings: string[] = [];
  const files = candidateFiles('clouds', s);
  const secureFiles = candidateFiles('secure', s);
  const main = await loadFirst(files, warnings);
  let config = validate(main, warnings) ?? {};
  const secure = await loadFirst(secureFiles, warnings);
  const secureData = validate(secure, warnings);
  if (secureData) config = mergeClouds(config, secureData);
  return {
    ...(main ? { file: main.path } : {}),
    ...(secureData && secure ? { secureFile: secure.path } : {}),
    clouds: isDict(config.clouds) ? config.clouds : {},
    secureClouds: secureData && isDict(secureData.clouds) ? secureData.clouds : {},
    searched: [...files, ...secureFiles],
    warnings,
  };
}

/** _auth_update: dict.update, except that `auth:` mappings are merged. */
function authUpdate(old: Dict, src: Dict, where: string): Dict {
  for (const [k, v] of Object.entries(structuredClone(src))) {
    if (k !== 'auth') {
      old[k] = v;
      continue;
    }
    if (!isDict(v)) throw new CloudsYamlError(`${where}: auth: is not a mapping`, 'write auth: as a mapping (auth_url:, username:, password:, …)');
    old.auth = isDict(old.auth) ? Object.assign(old.auth, v) : { ...v };
  }
  return old;
}

/** openstack/config/defaults.json, the keys that matter here. */
const DEFAULTS: Dict = { auth_type: 'password', interface: 'public' };

interface Region {
  name: string;
  values: Dict;
}

/** loader.py _get_known_regions / _expand_regions: the cloud's regions, first one first. */
function regionsOf(cloud: Dict, where: string): Region[] {
  const c = normalizeKeys(cloud);
  let list: unknown[];
  if (has(c, 'regions')) list = Array.isArray(c.regions) ? c.regions : [c.regions];
  else if (has(c, 'region_name')) list = Array.isArray(c.region_name) ? c.region_name : String(c.region_name).split(',');
  else return [];
  return list.map((r) => {
    if (!isDict(r)) return { name: String(r), values: {} };
    if (!has(r, 'name') || Object.keys(r).some((k) => k !== 'name' && k !== 'values')) {
      throw new CloudsYamlError(`${where}: invalid region entry ${JSON.stringify(r)}`, 'a region is a name, or a mapping with name: and values:');
    }
    return { name: String(r.name), values: isDict(r.values) ? r.values : {} };
  });
}

/** _util.normalize_keys: `-` in keys becomes `_`, numbers become strings (booleans stay). */
function normalizeKeys(d: Dict): Dict {
  const out: Dict = {};
  for (const [k, v] of Object.entries(d)) {
    const key = k.replace(/-/g, '_');
    out[key] = isDict(v) ? normalizeKeys(v) : typeof v === 'number' && key !== 'verbose_level' && key !== 'api_timeout' ? String(v) : v;
  }
  return out;
}

/** loader.py _fix_backwards_auth: old and dashed spellings into `auth:`, a value outside `auth:` winning. */
function fixBackwardsAuth(cloud: Dict): void {
  const auth = cloud.auth as Dict;
  const v2 = cloud.auth_type === 'v2password';
  const mappings: [string, string[]][] = [
    ['domain_id', ['domain_id', 'domain-id']],
    ['domain_name', ['domain_name', 'domain-name']],
    ['user_domain_id', ['user_domain_id', 'user-domain-id']],
    ['user_domain_name', ['user_domain_name', 'user-domain-name']],
    ['project_domain_id', ['project_domain_id', 'project-domain-id']],
    ['project_domain_name', ['project_domain_name', 'project-domain-name']],
    ['token', ['auth-token', 'auth_token', 'token']],
    ['passcode', ['passcode']],
    v2 ? ['tenant_id', ['project_id', 'project-id', 'tenant_id', 'tenant-id']] : ['project_id', ['tenant_id', 'tenant-id', 'project_id', 'project-id']],
    v2 ? ['tenant_name', ['project_name', 'project-name', 'tenant_name', 'tenant-name']] : ['project_name', ['tenant_name', 'tenant-name', 'project_name', 'project-name']],
  ];
  for (const [target, keys] of mappings) {
    let value: string | undefined;
    for (const k of keys) {
      if (has(auth, k)) {
        if (auth[k] !== null && auth[k] !== undefined) value = String(auth[k]);
        delete auth[k];
      }
      if (has(cloud, k)) {
        if (cloud[k] !== null && cloud[k] !== undefined) value = String(cloud[k]);
        delete cloud[k];
      }
    }
    if (value) auth[target] = value;
  }
}

/** loader.py _handle_domain_id: a project-scoped login's domain_* applies to the user and the project alike. */
function handleDomainId(cloud: Dict): void {
  const auth = cloud.auth as Dict;
  const scoped = ['project_id', 'project_name'].some((k) => has(cloud, k) || has(auth, k));
  for (const [target, both] of [['domain_id', ['user_domain_id', 'project_domain_id']], ['domain_name', ['user_domain_name', 'project_domain_name']]] as const) {
    if (!scoped) {
      if (has(cloud, target) && !has(auth, target)) {
        auth[target] = cloud[target];
        delete cloud[target];
      }
      continue;
    }
    for (const k of both) if (has(auth, target) && !has(auth, k)) auth[k] = auth[target];
    delete cloud[target];
    delete auth[target];
  }
}

/** loader.py _fix_backwards_interface: `*endpoint_type` keys are `*interface` (the later key in the mapping wins). */
function fixBackwardsInterface(cloud: Dict): Dict {
  const out: Dict = {};
  for (const [k, v] of Object.entries(cloud)) out[k.endsWith('endpoint_type') ? k.replace('endpoint_type', 'interface') : k] = v;
  return out;
}

/** loader.py get_boolean: true, or the string "true" in any case; anything else is false. */
const getBoolean = (v: unknown): boolean => v === true || (typeof v === 'string' && v.toLowerCase() === 'true');

/** Python's str.format(**config) on auth_url ("https://{region_name}.example.com:5000/v3"). */
function formatWith(template: string, config: Dict, where: string): string {
  return template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, name: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    if (name === undefined || !has(config, name)) throw new CloudsYamlError(`${where}: auth_url uses {${name ?? ''}}, which the cloud does not set`, 'write the URL in full, or set that key in the cloud');
    return String(config[name]);
  });
}

/** keystoneauth's password plugins: each option with its deprecated spelling. */
const PASSWORD_OPTIONS: [string, string?][] = [
  ['auth_url'], ['username', 'user_name'], ['user_id'], ['password'], ['project_name', 'tenant_name'], ['project_id', 'tenant_id'],
  ['user_domain_id'], ['user_domain_name'], ['project_domain_id'], ['project_domain_name'], ['domain_id'], ['domain_name'],
  ['default_domain_id'], ['default_domain_name'], ['trust_id'], ['system_scope'],
];

/** loader.py _validate_auth: each option from `auth:` if there, else from the cloud's top level; moved into `auth:`. */
function validateAuth(config: Dict): void {
  const auth = config.auth as Dict;
  const find = (d: Dict, opt: string, dep?: string): unknown => (has(d, opt) ? d[opt] : dep !== undefined && has(d, dep) ? d[dep] : undefined);
  for (const [opt, dep] of PASSWORD_OPTIONS) {
    let value = find(auth, opt, dep);
    if (!truthy(value)) value = find(config, opt, dep);
    for (const k of [opt, ...(dep ? [dep] : [])]) {
      delete config[k];
      delete auth[k];
    }
    if (truthy(value)) auth[opt] = value;
  }
}

const PASSWORD_TYPES = new Set(['password', 'v3password', 'v2password']);
const INTERFACES: Record<string, Interface> = { public: 'public', publicURL: 'public', internal: 'internal', internalURL: 'internal', admin: 'admin', adminURL: 'admin' };

/** The cloud's settings (pure: the files are already read). `chosenBy` says where its name came from. */
export function resolveCloud(name: string, files: CloudsFiles, s: Pick<CloudsSearch, 'cwd'>): CloudSettings {
  const names = Object.keys(files.clouds);
  if (!has(files.clouds, name)) {
    const read = [files.file, files.secureFile].filter(Boolean).join(', ');
    throw new CloudsYamlError(
      read
        ? `no cloud "${name}" in ${read} (clouds found: ${names.length ? names.join(', ') : 'none'})`
        : `no cloud "${name}": no clouds.yaml found (looked for ${[...new Set(files.searched.filter((f) => /clouds\.yaml$/.test(f)))].join(', ')})`,
      read ? `name one of ${names.length ? names.join(', ') : 'the clouds you add there'} with --os-cloud (or OS_CLOUD), or add "${name}" to ${files.file ?? files.secureFile}` : 'put a clouds.yaml in ~/.config/openstack/ (or the current directory), or give the credentials another way (OS_* variables, --openrc)',
    );
  }
  const where = `cloud "${name}" in ${files.file ?? files.secureFile}`;
  const ours = files.clouds[name];
  if (!isDict(ours)) throw new CloudsYamlError(`${where} is not a mapping`, 'write the cloud as a mapping (auth:, region_name:, …)');
  const profile = ours.profile ?? ours.cloud;
  if (profile !== undefined) {
    throw new CloudsYamlError(`${where} uses the vendor profile "${String(profile)}", which this tool does not read`, 'write the profile\'s auth_url (and region_name) into the cloud itself');
  }

  // _get_base_cloud_config: the defaults, then the cloud, `auth:` merged.
  let config = authUpdate({ ...DEFAULTS, auth: {} }, ours, where);
  // get_one: the first region, and the values it carries.
  const region = regionsOf(ours, where)[0];
  delete config.regions;
  config.region_name = region?.name ?? '';
  if (region) config = authUpdate(config, region.values, where);

  // magic_fixes, in loader.py's order (the ones that concern a login).
  for (const k of ['auth_plugin', 'auth_type']) {
    if (has(config, k)) {
      const v = config[k];
      delete config[k];
      config.auth_type = v;
    }
  }
  fixBackwardsAuth(config);
  config = fixBackwardsInterface(config);
  handleDomainId(config);
  if (has(config, 'insecure') && typeof config.insecure !== 'boolean') config.insecure = getBoolean(config.insecure);
  const auth0 = config.auth as Dict;
  if (typeof auth0.auth_url === 'string') auth0.auth_url = formatWith(auth0.auth_url, config, where);
  config = normalizeKeys(config);
  validateAuth(config);
  const auth = config.auth as Dict;

  const authType = config.auth_type === null || config.auth_type === undefined || config.auth_type === 'None' || config.auth_type === '' ? 'none' : String(config.auth_type);
  if (!PASSWORD_TYPES.has(authType)) {
    throw new CloudsYamlError(`${where} logs in with auth_type "${authType}"; this tool logs in with a password only`, 'use a cloud with auth_type: password (the default) and auth: username/password/project_name, or give the admin credentials another way (OS_* variables, --openrc)');
  }
  for (const k of ['cert', 'key']) {
    if (truthy(config[k])) throw new CloudsYamlError(`${where} sets a client certificate (${k}:), which this tool does not present`, 'use a cloud that logs in with a password alone');
  }
  if (truthy(auth.system_scope) || truthy(auth.trust_id)) {
    throw new CloudsYamlError(`${where} asks for a ${truthy(auth.system_scope) ? 'system' : 'trust'}-scoped token; this tool needs a project-scoped admin`, 'give the cloud project_name: (the admin project) instead');
  }
  const project = auth.project_name ?? auth.tenant_name;
  const missing = [
    ...(truthy(auth.auth_url) ? [] : ['auth_url']),
    ...(truthy(auth.username) ? [] : [truthy(auth.user_id) ? 'username (user_id alone is not supported)' : 'username']),
    ...(truthy(auth.password) ? [] : ['password']),
    ...(truthy(project) ? [] : [truthy(auth.project_id) || truthy(auth.tenant_id) ? 'project_name (project_id alone is not supported)' : 'project_name']),
  ];
  if (missing.length) {
    throw new CloudsYamlError(`${where} lacks ${missing.map((m) => `auth: ${m}`).join(', ')}`, `add ${missing.length > 1 ? 'them' : 'it'} to the cloud in ${files.file ?? 'clouds.yaml'} (a password may go in secure.yaml beside it)`);
  }

  const idVersion = config.identity_api_version === undefined ? undefined : String(config.identity_api_version);
  if (idVersion !== undefined && !/^(2(\.0)?|3(\.\d+)?)$/.test(idVersion)) {
    throw new CloudsYamlError(`${where} asks for identity_api_version ${idVersion}`, 'use identity_api_version: 3 (or leave it out)');
  }
  const iface = config.interface === undefined ? undefined : INTERFACES[String(config.interface)];
  if (config.interface !== undefined && !iface) {
    throw new CloudsYamlError(`${where} has interface "${String(config.interface)}"`, 'use interface: public, internal or admin');
  }
  if (has(config, 'verify') && typeof config.verify !== 'boolean') {
    throw new CloudsYamlError(`${where} has verify: ${JSON.stringify(config.verify)}`, 'write verify: true or false, and the CA file as cacert:');
  }
  const str = (v: unknown): string | undefined => (truthy(v) ? String(v) : undefined);
  const userDomainId = str(auth.user_domain_id) ?? (auth.user_domain_name ? undefined : str(auth.default_domain_id));
  const projectDomainId = str(auth.project_domain_id) ?? (auth.project_domain_name ? undefined : str(auth.default_domain_id));
  const creds: AdminCredentials = {
    authUrl: String(auth.auth_url),
    username: String(auth.username),
    password: new Secret(String(auth.password)),
    projectName: String(project),
    // As for an openrc: the default domain's name when none is given (keystoneauth would fail on v3).
    userDomainName: str(auth.user_domain_name) ?? str(auth.default_domain_name) ?? 'Default',
    projectDomainName: str(auth.project_domain_name) ?? str(auth.default_domain_name) ?? 'Default',
    ...(userDomainId && !auth.user_domain_name ? { userDomainId } : {}),
    ...(projectDomainId && !auth.project_domain_name ? { projectDomainId } : {}),
  };
  const warnings = [...files.warnings];
  const insecure = config.insecure === true || config.verify === false;
  const cacert = str(config.cacert);
  if (insecure && cacert) warnings.push(`${where} sets cacert: and turns the check off (${config.insecure === true ? 'insecure: true' : 'verify: false'}): the certificate is not checked`);
  const fromSecure = isDict(files.secureClouds[name]);
  return {
    cloud: name,
    file: files.file ?? files.secureFile!,
    ...(fromSecure && files.secureFile ? { secureFile: files.secureFile } : {}),
    creds,
    ...(cacert ? { cacert: path.resolve(s.cwd, cacert) } : {}),
    insecure,
    ...(config.region_name ? { regionName: String(config.region_name) } : {}),
    ...(iface ? { interface: iface } : {}),
    ...(idVersion ? { identityApiVersion: idVersion } : {}),
    warnings,
  };
}

/** Reads the search path's files and resolves the cloud named NAME. */
export async function cloudSettings(name: string, s: CloudsSearch): Promise<CloudSettings> {
  return resolveCloud(name, await loadCloudsFiles(s), s);
}
