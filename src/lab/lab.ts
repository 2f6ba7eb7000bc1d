// Lab controllers: a namespace holder (PID 1 of the lab) + veth + NAT for the mirror + an overlay over
// the snapshot, running sshd, MariaDB and Keystone. Everything a lab is lives in its holder's
// namespaces or in its directory, so `down` is: kill the holder, drop its link and rules, remove the dir.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { sh, have, describeFailure } from './local.ts';
import { checkName, readRecord, listRecords, stateOf, type LabRecord, type LabRelease, type Release } from './records.ts';
import { projectPath } from '../project-root.ts';
import { paths } from './paths.ts';
import { withLock, withLocks } from './lock.ts';
import { LabError } from './errors.ts';
import type { Progress } from './snapshot.ts';
import { ensureStack, type Stack, type Variant } from './variant.ts';
import { waitReady } from './ready.ts';
import { makeLabTls, placeLabTls } from './tls.ts';
import { generateKeyPair } from '../transport/keys.ts';
import { addLabNetwork, removeLabNetwork, LAB_NET } from './network.ts';
import { claim, claimedElsewhere, release } from './address-claims.ts';

const bootScript = projectPath('src', 'lab', 'recipe', 'boot.sh');

export { checkName, defaultNames, readRecord, listRecords, stateOf, type LabRecord, type LabState } from './records.ts';

export async function preflight(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new LabError('the lab needs root (namespaces, mounts, veth, iptables)', 'run it as root, e.g. with sudo');
  }
  const tools: Record<string, string> = {
    debootstrap: 'debootstrap', unshare: 'util-linux', nsenter: 'util-linux', setpriv: 'util-linux', ip: 'iproute2',
    iptables: 'iptables', mount: 'mount', perl: 'perl-base', sysctl: 'procps',
  };
  const missing: string[] = [];
  for (const [cmd, pkg] of Object.entries(tools)) if (!(await have(cmd))) missing.push(pkg);
  if (missing.length) {
    const pkgs = [...new Set(missing)].join(' ');
    throw new LabError(`missing tools for the lab: ${pkgs}`, `install them: apt-get install -y ${pkgs}`);
  }
}

/** One process per name at a time, from `up` to ready or through `down`: a second `up` waits, then reuses. */
const nameLock = (name: string) => `lab-${name}`;

/** Waiting for another process's `up` or `down` of a name says so: it can take a snapshot build's minutes. */
const sayWaitingForName = (progress: Progress) => (lock: string, pid: number) =>
  progress(`lab ${lock.slice('lab-'.length)}: another install-glance (pid ${pid}) is bringing it up or taking it down; waiting for it`);

export interface UpOptions {
  /** Keystone over HTTPS with a CA made for each lab. */
  tls?: boolean;
  /** Glance's dependencies installed beforehand: a fresh apply installs Glance's own packages only. */
  glanceDeps?: boolean;
  /** A running lab that alone may reach these labs' sshd; the host may not (jump-host tests). */
  behind?: string;
}

/** What a lab of RELEASE is built from: a Debian snapshot, and the layer that makes it what was asked for. */
export function stackFor(release: LabRelease, opts: UpOptions): { base: Release; variant?: Variant } {
  if (release === 'juno') {
    if (opts.tls) throw new LabError('--tls is not offered with --release juno', 'the trusty-shaped lab serves Keystone over HTTP, as the Juno guide does; use --tls with a Debian release');
    if (opts.glanceDeps) throw new LabError('--glance-deps is not offered with --release juno', 'the trusty-shaped lab is one layer over bookworm already; use --glance-deps with a Debian release');
    return { base: 'bookworm', variant: 'trusty' };
  }
  // A lab is one layer over its base: the layers are not made to be stacked.
  if (opts.tls && opts.glanceDeps) throw new LabError('--tls and --glance-deps cannot be combined', 'pick one: a TLS Keystone, or Glance\'s dependencies installed beforehand');
  return { base: release, variant: opts.tls ? 'tls' : opts.glanceDeps ? 'glance-deps' : undefined };
}

/** What a lab is, in the words of `lab up`'s options: `bookworm`, `bookworm --tls`, `bookworm --glance-deps`, `juno`. */
export function kindOf(r: Pick<LabRecord, 'release' | 'tls' | 'glanceDeps'>): string {
  return `${r.release}${r.tls ? ' --tls' : ''}${r.glanceDeps ? ' --glance-deps' : ''}`;
}

export async function up(names: string[], release: LabRelease, progress: Progress, options: UpOptions = {}): Promise<LabRecord[]> {
  names.forEach(checkName);
  if (new Set(names).size !== names.length) throw new LabError('a lab name is given twice', 'give each lab its own name');
  const { base, variant } = stackFor(release, options);
  const want = kindOf({ release, tls: options.tls, glanceDeps: options.glanceDeps });
  // Before anything is built: a running lab of another kind under one of the names is an error anyway.
  for (const name of names) refuseOtherKind(readRecord(name), want);
  const bastion = options.behind === undefined ? undefined : readRecord(options.behind);
  if (options.behind !== undefined && (!bastion || stateOf(bastion) !== 'running' || names.includes(options.behind))) {
    throw new LabError(`the bastion lab ${options.behind} (--behind) is not running`, `bring it up first, on its own: "install-glance lab up ${options.behind}"`);
  }
  const behind = bastion && { name: bastion.name, address: bastion.address };
  await preflight();
  // The host's openssl makes each TLS lab's CA (ca-certificates pulls it in; a bare machine may lack it).
  if (options.tls && !(await have('openssl'))) throw new LabError('a TLS lab needs openssl on this machine', 'install it: apt-get install -y openssl');
  const stack = await ensureStack(base, variant, progress);
  const clientKey = ensureClientKey();
  return withLocks(names.map(nameLock), () => upLocked(names, { release, base, tls: !!options.tls, glanceDeps: !!options.glanceDeps, stack, behind }, clientKey.public, progress),
    sayWaitingForName(progress));
}

function refuseOtherKind(existing: LabRecord | undefined, want: string): void {
  if (!existing || stateOf(existing) !== 'running') return;
  const have = kindOf(existing);
  if (have !== want) {
    throw new LabError(`lab ${existing.name} is already up as ${have}, not ${want}`, `run "install-glance lab down ${existing.name}" first, or pick another name`);
  }
}

interface Wanted { release: LabRelease; base: Release; tls: boolean; glanceDeps: boolean; stack: Stack; behind?: LabRecord['behind'] }

async function upLocked(names: string[], want: Wanted, clientPublicKey: string, progress: Progress): Promise<LabRecord[]> {
  const fresh: LabRecord[] = [];
  const reused: LabRecord[] = [];
  for (const name of names) {
    const existing = readRecord(name);
    if (existing && stateOf(existing) === 'running') {
      refuseOtherKind(existing, kindOf(want));
      if (existing.behind?.address !== want.behind?.address) {
        const was = existing.behind ? `behind ${existing.behind.name}` : 'reachable from the host';
        throw new LabError(`lab ${name} is already up, ${was}`, `run "install-glance lab down ${name}" first, or pick another name`);
      }
      // An `up` that was interrupted leaves a running holder that never finished booting: reuse only a
      // lab that answers, and make a new one in place of one that does not.
      const ready = await waitReady(existing, 5_000).then(() => true, () => false);
      if (ready) {
        progress(`${name}: already up at ${existing.address}; reused`);
        reused.push(existing);
        continue;
      }
      progress(`${name}: running but not answering (an interrupted up?); making it again`);
    }
    if (existing || fs.existsSync(paths.lab(name))) {
      progress(`${name}: left over from a lab that stopped; removing it first`);
      await takeDown(name, () => {});
    }
    fresh.push(await allocate(name, want));
  }
  const results = await Promise.allSettled(fresh.map((r) => create(r, clientPublicKey, progress)));
  await syncLabFiles();
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return [...reused, ...results.map((r) => (r as PromiseFulfilledResult<LabRecord>).value)];
}

function ensureClientKey(): { private: string; public: string } {
  const pub = `${paths.clientKey}.pub`;
  if (!fs.existsSync(paths.clientKey)) {
    fs.mkdirSync(path.dirname(paths.clientKey), { recursive: true, mode: 0o700 });
    const k = generateKeyPair('install-glance-lab');
    fs.writeFileSync(paths.clientKey, k.private, { mode: 0o600 });
    fs.writeFileSync(pub, k.public + '\n', { mode: 0o644 });
  }
  return { private: fs.readFileSync(paths.clientKey, 'utf8'), public: fs.readFileSync(pub, 'utf8').trim() };
}

async function allocate(name: string, want: Wanted): Promise<LabRecord> {
  return withLock('labs', async () => {
    const used = new Set(listRecords().map((r) => r.index));
    const links = (await sh`ip -o link show`.nothrow()).stdout;
    const dir = paths.lab(name);
    let index = 1;
    while (used.has(index) || links.includes(` igh${index}:`) || links.includes(` igh${index}@`) || claimedElsewhere(index, dir)) index++;
    if (index > 250) throw new LabError('no free lab address', 'take some labs down first');
    claim(index, dir);
    for (const d of ['upper', 'work', 'root']) fs.mkdirSync(path.join(dir, d), { recursive: true, mode: 0o755 });
    const record: LabRecord = {
      name, index, release: want.release, snapshot: want.stack.top, lowers: want.stack.lowers,
      ...(want.base !== want.release ? { base: want.base } : {}),
      ...(want.tls ? { tls: true } : {}),
      ...(want.glanceDeps ? { glanceDeps: true } : {}),
      address: `${LAB_NET}.${index}.2`,
      gateway: `${LAB_NET}.${index}.1`,
      holderPid: 0, nsPid: 0, hostKey: '',
      createdAt: new Date().toISOString(),
      ...(want.behind ? { behind: want.behind } : {}),
    };
    saveRecord(record);
    return record;
  });
}

function saveRecord(r: LabRecord): void {
  const file = path.join(paths.lab(r.name), 'lab.json');
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(r, null, 2) + '\n');
  fs.renameSync(`${file}.tmp`, file);
}

/**
 * A lab's /etc/hosts: itself (also as `controller`, as in the seed), then every other lab by name,
 * except a lab named `controller`: in each lab that name means the lab itself, and a second line for it
 * would make getaddrinfo hand out both addresses (Glance's DB connection then tries the other lab's).
 */
export function hostsFile(r: Pick<LabRecord, 'name' | 'address'>, labs: Pick<LabRecord, 'name' | 'address'>[]): string {
  const lines = ['127.0.0.1 localhost', `${r.address} ${[...new Set([r.name, 'controller'])].join(' ')}`,
    ...labs.filter((o) => o.name !== r.name && o.name !== 'controller').map((o) => `${o.address} ${o.name}`)];
  return lines.join('\n') + '\n';
}

/** The files that make this lab itself and not the snapshot, written into the overlay's upper layer. */
function writeIdentity(r: LabRecord, clientPublicKey: string, labs: LabRecord[]): void {
  const upper = path.join(paths.lab(r.name), 'upper');
  const put = (rel: string, content: string, mode: number) => {
    fs.mkdirSync(path.dirname(path.join(upper, rel)), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(upper, rel), content, { mode });
    fs.chmodSync(path.join(upper, rel), mode);
  };
  fs.mkdirSync(path.join(upper, 'root', '.ssh'), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.join(upper, 'root'), 0o700);
  fs.chmodSync(path.join(upper, 'root', '.ssh'), 0o700);
  put('root/.ssh/authorized_keys', clientPublicKey + '\n', 0o600);
  const hostKey = generateKeyPair(`${r.name}-host`);
  put('etc/ssh/ssh_host_ed25519_key', hostKey.private, 0o600);
  put('etc/ssh/ssh_host_ed25519_key.pub', hostKey.public + '\n', 0o644);
  put('etc/ssh/sshd_config.d/install-glance-lab.conf',
    'HostKey /etc/ssh/ssh_host_ed25519_key\nPasswordAuthentication no\nUseDNS no\nPermitRootLogin prohibit-password\n', 0o644);
  put('etc/hostname', `${r.name}\n`, 0o644);
  put('etc/hosts', hostsFile(r, labs), 0o644);
  put('etc/resolv.conf', fs.readFileSync('/etc/resolv.conf', 'utf8'), 0o644);
  r.hostKey = hostKey.public.split(' ').slice(0, 2).join(' ');
}

async function create(r: LabRecord, clientPublicKey: string, progress: Progress): Promise<LabRecord> {
  const t0 = Date.now();
  const { name } = r;
  const lower = (r.lowers ?? [r.snapshot]).join(':');
  const dir = paths.lab(name);
  let stage = 'write the lab identity';
  try {
    writeIdentity(r, clientPublicKey, listRecords());
    if (r.tls) {
      stage = "make the lab's CA and Keystone's certificate (openssl)";
      r.caFile = path.join(dir, 'ca.pem');
      placeLabTls(await makeLabTls(r, dir), path.join(dir, 'upper'), r.lowers ?? [r.snapshot], r.caFile);
    }
    stage = 'start the namespace holder';
    // PID 1 of the lab reaps orphans, or a stopped daemon stays a zombie that init scripts wait on.
    const holder = spawn('unshare', ['--mount', '--pid', '--fork', '--net', '--uts', '--ipc', '--propagation', 'private', '--',
      'perl', '-e', `$0 = "install-glance-lab ${name}"; while (1) { sleep 1 if wait() == -1 }`], { detached: true, stdio: 'ignore' });
    holder.unref();
    r.holderPid = holder.pid ?? 0;
    r.nsPid = await childOf(r.holderPid);
    saveRecord(r);
    stage = 'connect the lab to the host (veth, NAT for the mirror)';
    await addLabNetwork(r);
    stage = 'boot the controller (overlay, sshd, MariaDB, Keystone)';
    const root = path.join(dir, 'root');
    await sh({ input: fs.readFileSync(bootScript) })`nsenter -t ${r.nsPid} -m -u -i -n -p -- sh -s ${r.address} ${r.gateway} ${lower} ${path.join(dir, 'upper')} ${path.join(dir, 'work')} ${root} ${name}`;
    stage = 'wait for SSH and a Keystone token';
    await waitReady(r);
    progress(`${name}: up at ${r.address} (${kindOf(r)}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return r;
  } catch (e) {
    const log = bootLog(r);
    await takeDown(name, () => {}).catch(() => {});
    throw new LabError(`lab ${name}: could not ${stage}: ${describeFailure(e)}${log ? `\nlast lines of the lab's boot log:\n${log}` : ''}`,
      'nothing of this lab was left behind; fix the cause and run "install-glance lab up" again', e);
  }
}

function bootLog(r: LabRecord): string {
  try {
    return fs.readFileSync(path.join(paths.lab(r.name), 'upper', 'var', 'log', 'lab-boot.log'), 'utf8').trim().split('\n').slice(-10).join('\n');
  } catch {
    return '';
  }
}

/** PID's children, or undefined when PID is gone. */
function childrenOf(pid: number): number[] | undefined {
  try {
    const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return kids ? kids.split(/\s+/).map(Number) : [];
  } catch {
    return undefined;
  }
}

async function childOf(pid: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const kids = childrenOf(pid);
    if (!kids) throw new Error(`the holder (pid ${pid}) exited at once`);
    if (kids[0]) return kids[0];
    await sleep(10);
  }
  throw new Error('the holder started no child');
}

/** Writes FILE whole, by rename: readers (and other writers) never see half of it. */
function replaceFile(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

/**
 * After any up or down: every running lab's /etc/hosts names every running lab, and known_hosts holds
 * every running lab's host key (for the CLI's --lab targets: nothing trusted on first use). A lab's
 * root is a mount of its own mount namespace, reached on the host through /proc/<its PID 1>/root.
 */
async function syncLabFiles(): Promise<void> {
  await withLock('lab-files', async () => {
    const running = listRecords().filter((r) => stateOf(r) === 'running');
    for (const r of running) {
      const etc = path.join('/proc', String(r.nsPid), 'root', paths.lab(r.name), 'root', 'etc');
      // Not booted yet (its overlay is not mounted): its own `up` writes its files and syncs again.
      if (!fs.existsSync(path.join(etc, 'hostname'))) continue;
      try {
        replaceFile(path.join(etc, 'hosts'), hostsFile(r, running));
      } catch (e) {
        // The lab went down meanwhile; its own `down` syncs again.
        if (stateOf(r) === 'running') throw e;
      }
    }
    const lines = running.filter((r) => r.hostKey).map((r) => `${r.address} ${r.hostKey}`);
    fs.mkdirSync(path.dirname(paths.knownHosts), { recursive: true, mode: 0o700 });
    replaceFile(paths.knownHosts, lines.join('\n') + (lines.length ? '\n' : ''));
  });
}

export async function down(name: string, progress: Progress): Promise<void> {
  checkName(name);
  await withLocks([nameLock(name)], () => takeDown(name, progress), sayWaitingForName(progress));
}

/** `down` for a caller that holds the name's lock. */
async function takeDown(name: string, progress: Progress): Promise<void> {
  const r = readRecord(name);
  const dir = paths.lab(name);
  if (!r && !fs.existsSync(dir)) {
    const known = listRecords().map((x) => x.name);
    throw new LabError(`there is no lab named ${name}`, known.length ? `labs here: ${known.join(', ')}` : 'no lab is up; "install-glance lab up" makes one');
  }
  const t0 = Date.now();
  if (r?.holderPid && stateOf(r) === 'running') {
    // Killing PID 1 of the lab ends every process in it, and its mounts go with its mount namespace.
    // PID 1 is the (verified) holder's child: kill that, not a recorded nsPid that may have been reused.
    const kids = childrenOf(r.holderPid) ?? [];
    for (const pid of kids.length ? kids : [r.holderPid]) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    for (let i = 0; i < 500 && stateOf(r) === 'running'; i++) await sleep(10);
    if (stateOf(r) === 'running') throw new LabError(`lab ${name}: its holder (pid ${r.holderPid}) did not exit`, `kill it by hand: kill -9 ${r.holderPid}`);
  }
  if (r) await removeLabNetwork(r);
  fs.rmSync(dir, { recursive: true, force: true });
  if (r) release(r.index, dir);
  await syncLabFiles();
  progress(`${name}: down in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/**
 * Takes NAMES down side by side. Each name that cannot be taken down is reported (all of them, in one
 * error) after the others went down.
 */
export async function downMany(names: string[], progress: Progress): Promise<void> {
  names.forEach(checkName);
  const results = await Promise.allSettled([...new Set(names)].map((n) => down(n, progress)));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
  if (failed.length === 1) throw failed[0];
  if (failed.length > 1) {
    throw new LabError(failed.map((e) => e.message).join('; '), [...new Set(failed.map((e) => (e as LabError).hint).filter(Boolean))].join('; '));
  }
}

export async function downAll(progress: Progress): Promise<void> {
  await downMany(listRecords().map((r) => r.name), progress);
}
