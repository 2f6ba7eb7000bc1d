// Where the cloud admin's credentials come from, as an operator of the openstack CLI expects, first
// match wins: --os-cloud NAME (clouds.yaml, as the CLI finds it), --openrc PATH (an openrc elsewhere on
// the controller), OS_CLOUD, OS_AUTH_URL + OS_PASSWORD in this environment, else the controller's own
// ~/openstack/admin-openrc.sh (the install guide's file, read with the facts). For an https Keystone,
// what to trust: --os-cacert FILE, else the source's own CA (OS_CACERT here for the environment and a
// clouds.yaml cloud, else its cacert:; the openrc's OS_CACERT, a file on the controller); --insecure
// (or verify: false, OS_INSECURE=true) checks nothing and says so on every host. The source and the
// trust are noted in each host's report.
import fs from 'node:fs';
import os from 'node:os';
import type { Provider } from '../engine/providers.ts';
import type { Host } from '../engine/host.ts';
import { defineFact, shq } from '../engine/facts.ts';
import { EngineError } from '../engine/errors.ts';
import { adminCredentialsFromEnv, adminCredentialsFromOpenrc } from '../clients/keystone.ts';
import { osExtras, parseOpenrc, type OsExtras } from '../clients/openrc.ts';
import { cloudSettings, type CloudSettings, type Interface } from '../clients/clouds-yaml.ts';
import type { AdminCredentials } from '../clients/keystone-api.ts';
import type { TlsTrust } from '../clients/tls-tunnel.ts';

export const OPENRC = '~/openstack/admin-openrc.sh';

/** The controller's admin-openrc.sh, or undefined. */
export const openrcFact = defineFact('openrc', 'cat "$HOME/openstack/admin-openrc.sh"', (raw) => (raw.trim() ? raw : undefined));

/** A path on the controller for sh: `~/x` is under the SSH user's home, a relative one too (sh starts there). */
function remotePath(p: string): string {
  return p === '~' ? '"$HOME"' : p.startsWith('~/') ? `"$HOME"/${shq(p.slice(2))}` : shq(p);
}

export type RemoteText = { state: 'readable'; text: string } | { state: 'unreadable' | 'missing' };

/**
 * A text file on the controller (an openrc named by --openrc, the CA its OS_CACERT names): its text, byte
 * for byte (base64 on the wire: the facts' sections would lose a final newline), or why there is none.
 */
export function remoteTextFact(p: string) {
  const q = remotePath(p);
  return defineFact(`text ${p}`, `if [ -f ${q} ] && [ -r ${q} ]; then echo readable; base64 -w0 ${q}; echo; elif [ -e ${q} ]; then echo unreadable; else echo missing; fi`, (raw): RemoteText => {
    const [state, b64] = raw.split('\n');
    if (state?.trim() === 'readable') return { state: 'readable', text: Buffer.from(b64 ?? '', 'base64').toString() };
    return { state: state?.trim() === 'unreadable' ? 'unreadable' : 'missing' };
  });
}

/** What the command line and the environment say about the admin credentials. */
export interface CredentialOptions {
  /** --os-cloud NAME */
  osCloud?: string;
  /** --openrc PATH (on the controller) */
  openrc?: string;
  /** --os-cacert FILE (on this machine) */
  osCacert?: string;
  /** --insecure */
  insecure?: boolean;
  env: Readonly<Record<string, string | undefined>>;
  /** Where clouds.yaml is looked for (default: this process's directory and home). */
  cwd?: string;
  home?: string;
}

export interface CredentialsWithSource extends AdminCredentials {
  /** Where they were found, for the report. */
  source: string;
  /** The source's region (clouds.yaml region_name, OS_REGION_NAME), when it names one. */
  regionName?: string;
  /** The source's interface (clouds.yaml interface, OS_INTERFACE), when it names one. */
  interface?: Interface;
}

/** Chosen once per run on this machine (clouds.yaml read once), whatever the number of hosts. */
type Choice =
  | { kind: 'cloud'; cloud: CloudSettings; namedBy: string; ignored: string[] }
  | { kind: 'env'; creds: AdminCredentials; extras: OsExtras }
  | { kind: 'openrc'; path?: string; ignored: string[] };

const OS_LOGIN = ['OS_AUTH_URL', 'OS_PASSWORD'];

async function choose(o: CredentialOptions): Promise<Choice> {
  const env = o.env;
  const loginVars = OS_LOGIN.filter((k) => env[k]);
  if (o.osCloud && o.openrc) {
    throw new EngineError('admin credentials', '--os-cloud and --openrc name two sources of the admin credentials', 'pass one of them');
  }
  const cloudName = o.osCloud ?? (o.openrc ? undefined : env.OS_CLOUD);
  if (cloudName) {
    const namedBy = o.osCloud ? '--os-cloud' : 'OS_CLOUD';
    const cloud = await cloudSettings(cloudName, { cwd: o.cwd ?? process.cwd(), home: o.home ?? os.homedir(), env });
    return { kind: 'cloud', cloud, namedBy, ignored: loginVars.length ? [`${loginVars.join(', ')} in this environment ${loginVars.length > 1 ? 'are' : 'is'} not used: ${namedBy} names the cloud`] : [] };
  }
  if (o.openrc) {
    const ignored = [...(env.OS_CLOUD ? ['OS_CLOUD'] : []), ...loginVars];
    return { kind: 'openrc', path: o.openrc, ignored: ignored.length ? [`${ignored.join(', ')} in this environment ${ignored.length > 1 ? 'are' : 'is'} not used: --openrc names the source`] : [] };
  }
  if (env.OS_AUTH_URL && env.OS_PASSWORD) {
    const source = 'the OS_* variables of this environment';
    return { kind: 'env', creds: adminCredentialsFromEnv(env, source), extras: osExtras(env, source) };
  }
  return { kind: 'openrc', ignored: [] };
}

const chosen = new WeakMap<CredentialOptions, Promise<Choice>>();

/** The CA file named on this machine, read; `why` says who named it. */
function readLocalCa(file: string, why: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new EngineError('admin credentials', `cannot read the CA file ${file} (${why}) on this machine: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      'pass the PEM file of the CA that signed Keystone\'s certificate (--os-cacert FILE, OS_CACERT, or cacert: in clouds.yaml)');
  }
  return checkPem(text, `${file} (${why})`);
}

function checkPem(text: string, what: string): string {
  if (!/-----BEGIN CERTIFICATE-----/.test(text)) {
    throw new EngineError('admin credentials', `${what} holds no PEM certificate`, 'name the CA certificate in PEM form (the text between -----BEGIN CERTIFICATE----- and -----END CERTIFICATE-----)');
  }
  return text;
}

/** The controller's openrc, parsed: its login, what else its OS_* say, and where it is. */
async function fromOpenrc(host: Host, path: string | undefined): Promise<{ creds: AdminCredentials; extras: OsExtras; where: string }> {
  const where = `${path ?? OPENRC} on the controller${path ? ' (--openrc)' : ''}`;
  let text: string | undefined;
  if (!path) {
    text = await host.fact(openrcFact);
    if (!text) {
      // ~ is the home of whoever runs the commands: a sudoer's own, unless --become makes it root's.
      const whose = host.t.user === 'root' ? '' : ` (~ is ${host.t.user}'s home; with --become it is root's, where the guide puts the file)`;
      throw new EngineError('admin credentials', `no ${OPENRC} on the controller and no OS_AUTH_URL/OS_PASSWORD in the environment`,
        `create ${OPENRC} on the controller (the install guide's identity part does)${whose}, export the OS_* variables here, or name a cloud of your clouds.yaml with --os-cloud (or an openrc elsewhere on the controller with --openrc PATH)`);
    }
  } else {
    const got = await host.fact(remoteTextFact(path));
    if (got.state !== 'readable') {
      throw new EngineError('admin credentials', `${path} (--openrc) ${got.state === 'missing' ? 'does not exist' : 'is not a file the SSH user can read'} on the controller`,
        'pass the path of the admin openrc on the controller (absolute, or ~/… under the SSH user\'s home)');
    }
    text = got.text;
  }
  const rc = parseOpenrc(text, where);
  return { creds: adminCredentialsFromOpenrc(text, where), extras: osExtras(rc.exported, where), where };
}

const LOGIN_FIELDS = 'OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME or OS_TENANT_NAME, OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME';

async function open(host: Host, o: CredentialOptions): Promise<CredentialsWithSource> {
  let c = chosen.get(o);
  if (!c) chosen.set(o, (c = choose(o)));
  const choice = await c;

  // The login, and what the source says about reaching Keystone.
  let creds: AdminCredentials;
  let source: string;
  let fixHint: string;
  let sourceCa: { file: string; why: string; on: 'here' | 'controller' } | undefined;
  let sourceInsecure: string | undefined;
  let regionName: string | undefined;
  let iface: Interface | undefined;
  const notes: string[] = [];
  if (choice.kind === 'cloud') {
    const cl = choice.cloud;
    const files = cl.secureFile ? `${cl.file}, with ${cl.secureFile}` : cl.file;
    creds = cl.creds;
    source = `clouds.yaml cloud "${cl.cloud}" (${files}), named by ${choice.namedBy}`;
    fixHint = `the admin credentials come from cloud "${cl.cloud}" in ${files}: fix auth: (username, password, project_name, user_domain_name, project_domain_name) there`;
    if (cl.cacert) sourceCa = { file: cl.cacert, why: `cacert: of cloud "${cl.cloud}"`, on: 'here' };
    if (cl.insecure) sourceInsecure = `cloud "${cl.cloud}" says verify: false / insecure: true`;
    regionName = cl.regionName;
    iface = cl.interface;
    notes.push(...cl.warnings, ...choice.ignored);
  } else if (choice.kind === 'env') {
    creds = choice.creds;
    source = 'the OS_* variables of this environment';
    fixHint = `the admin credentials come from the OS_* variables of your environment (${LOGIN_FIELDS}): fix them there`;
    if (choice.extras.cacert) sourceCa = { file: choice.extras.cacert, why: 'OS_CACERT', on: 'here' };
    if (choice.extras.insecure) sourceInsecure = 'OS_INSECURE=true';
    regionName = choice.extras.regionName;
    iface = choice.extras.interface;
  } else {
    const rc = await fromOpenrc(host, choice.path);
    creds = rc.creds;
    source = rc.where;
    fixHint = `the admin credentials come from ${rc.where} (${LOGIN_FIELDS}): fix them there, or export the OS_* variables here, or name a cloud with --os-cloud`;
    if (rc.extras.cacert) sourceCa = { file: rc.extras.cacert, why: `OS_CACERT in ${rc.where}`, on: 'controller' };
    if (rc.extras.insecure) sourceInsecure = `OS_INSECURE=true in ${rc.where}`;
    regionName = rc.extras.regionName;
    iface = rc.extras.interface;
    notes.push(...choice.ignored);
  }

  // What to trust, for an https Keystone only (an http one has nothing to check).
  let tls: TlsTrust | undefined;
  const url = (() => {
    try {
      return new URL(creds.authUrl);
    } catch {
      return undefined;
    }
  })();
  if (url?.protocol === 'https:') {
    const insecure = o.insecure ? '--insecure' : sourceInsecure;
    // OS_CACERT here goes with a clouds.yaml cloud as the openstack CLI takes it (its --os-cacert default);
    // the controller's openrc names its own CA, which a stray OS_CACERT here must not replace.
    const ca = o.osCacert ? { file: o.osCacert, why: '--os-cacert', on: 'here' as const } : o.env.OS_CACERT && choice.kind === 'cloud' ? { file: o.env.OS_CACERT, why: 'OS_CACERT of this environment', on: 'here' as const } : sourceCa;
    let pem: string | undefined;
    if (ca) {
      try {
        pem = ca.on === 'here' ? readLocalCa(ca.file, ca.why) : await readRemoteCa(host, ca.file, ca.why);
      } catch (e) {
        // Without a check the CA is only needed for the service's own config: its absence is said, not fatal.
        if (!insecure) throw e;
        notes.push(`the CA file was not read (${(e as Error).message})`);
      }
    }
    const caSource = ca && pem ? `${ca.file} (${ca.why})` : undefined;
    tls = { ...(pem ? { ca: pem, caSource } : {}), ...(insecure ? { insecure: true } : {}) };
    if (insecure) {
      const warning = `warning: ${insecure}: the certificate of Keystone at ${url.host} is not checked (anyone between the controller and it could pose as Keystone and take the admin password)`;
      host.progress(warning);
      notes.push(warning);
    } else {
      notes.push(`Keystone at ${url.host} is https: its certificate is checked against ${caSource ?? 'the CAs this machine trusts'}`);
    }
  }
  host.note(`admin credentials: ${source}`);
  for (const n of notes) host.note(n);
  return { ...creds, ...(tls ? { tls } : {}), fixHint, source, ...(regionName ? { regionName } : {}), ...(iface ? { interface: iface } : {}) };
}

async function readRemoteCa(host: Host, file: string, why: string): Promise<string> {
  const got = await host.fact(remoteTextFact(file));
  if (got.state !== 'readable') {
    throw new EngineError('admin credentials', `${why} names ${file}, which ${got.state === 'missing' ? 'does not exist' : 'the SSH user cannot read'} on the controller`,
      'fix OS_CACERT there, or pass the CA from this machine with --os-cacert FILE');
  }
  return checkPem(got.text, `${file} (${why}, on the controller)`);
}

export function adminCredentials(options: CredentialOptions): Provider<CredentialsWithSource> {
  return {
    key: 'admin-credentials',
    open: (host) => open(host, options),
  };
}
