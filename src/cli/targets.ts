// Which hosts a run targets: --host (repeatable), an Ansible inventory (src/inventory/: INI, YAML, a
// script, or what ansible-inventory reads), every running lab controller (--lab), or by default the local
// lab `controller`, brought up when it is not running; then --limit, as Ansible's, on any of them.
import os from 'node:os';
import type { Target } from '../engine/run-host.ts';
import { loadInventory, applyLimit, InventoryError, LimitError, type Inventory, type InventoryHost } from '../inventory/index.ts';
import { listRecords, stateOf, type LabRecord } from '../lab/records.ts';
import { paths } from '../lab/paths.ts';
import { UsageError } from './usage-error.ts';
import { hostTargets } from './host-targets.ts';
import { hostNameProblem, labelProblem, shownName, userNameProblem } from '../transport/names.ts';

export interface TargetArgs {
  host?: string[];
  inventory?: string;
  /** Lab names; an empty list (or only '') means every running lab. */
  lab?: string[];
  user?: string;
  port?: number;
  identity?: string;
  knownHosts?: string;
  acceptNewHostKey?: boolean;
  /** Ansible's --limit: host and group names, globs, `,`/`:` unions, `!` exclusion, `&` intersection. */
  limit?: string;
  /** For --host: the ssh config file (default ~/.ssh/config; "none": no file). */
  sshConfig?: string;
  /** --become and --become-user: every remote command through sudo (an inventory's ansible_become* win, as in Ansible). */
  become?: boolean;
  becomeUser?: string;
}

/** A target with its privilege escalation: commands through sudo (src/cli/connect-target.ts). */
export interface ResolvedTarget extends Target {
  /** ansible_become, as Ansible reads a boolean, else --become. */
  become?: boolean;
  /** ansible_become_user, else --become-user. */
  becomeUser?: string;
}

type Common = Omit<ResolvedTarget, 'name' | 'host'>;

/** The last of `names` that the host has, as Ansible's config loader picks among a setting's vars. */
function pick(h: InventoryHost, names: string[]): { name: string; value: unknown } | undefined {
  let found: { name: string; value: unknown } | undefined;
  for (const name of names) if (h.vars[name] !== undefined && h.vars[name] !== null) found = { name, value: h.vars[name] };
  return found;
}

function text(h: InventoryHost, source: string, names: string[]): string | undefined {
  const v = pick(h, names);
  if (!v) return undefined;
  if (typeof v.value !== 'string' && typeof v.value !== 'number') {
    throw new UsageError(`inventory ${source}, host ${h.name}: ${v.name} is ${JSON.stringify(v.value)}, not text`);
  }
  const s = String(v.value);
  if (s.includes('{{') || s.includes('{%')) {
    throw new UsageError(`inventory ${source}, host ${h.name}: ${v.name} is a Jinja2 template (${s}), which install-glance does not evaluate; write the value itself`);
  }
  return s;
}

const BOOL_TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const BOOL_FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f']);

function bool(h: InventoryHost, source: string, name: string): boolean | undefined {
  const v = h.vars[name];
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  const norm = String(v).trim().toLowerCase();
  if (typeof v !== 'object' && BOOL_TRUE.has(norm)) return true;
  if (typeof v !== 'object' && BOOL_FALSE.has(norm)) return false;
  throw new UsageError(`inventory ${source}, host ${h.name}: ${name} is ${JSON.stringify(v)}, not a boolean (write true or false)`);
}

export function inventoryTarget(h: InventoryHost, source: string, common: Common): ResolvedTarget {
  const port = pick(h, ['ansible_port', 'ansible_ssh_port']);
  let portNumber: number | undefined;
  if (port) {
    const p = typeof port.value === 'string' && /^\s*\d+\s*$/.test(port.value) ? Number(port.value) : port.value;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) {
      throw new UsageError(`inventory ${source}, host ${h.name}: ${port.name} is ${JSON.stringify(port.value)}, not a port number (1-65535)`);
    }
    portNumber = p;
  }
  const key = text(h, source, ['ansible_private_key_file', 'ansible_ssh_private_key_file']);
  const address = text(h, source, ['ansible_host', 'ansible_ssh_host']);
  const userVar = pick(h, ['ansible_user', 'ansible_ssh_user']);
  const refuse = (what: string, value: string, why: string, fix: string) => {
    throw new UsageError(`inventory ${source}, host ${shownName(h.name)}: ${what} is ${shownName(value)}: ${why}\n  what to do: ${fix}`);
  };
  if (address === undefined) {
    const bad = hostNameProblem(h.name);
    if (bad) refuse('its name (the host to reach: it has no ansible_host)', h.name, bad, 'rename it, or give the address with ansible_host=…');
  } else {
    const bad = hostNameProblem(address) ;
    if (bad) refuse(pick(h, ['ansible_host', 'ansible_ssh_host'])!.name, address, bad, 'give the host\'s name or address as DNS or /etc/hosts knows it');
    const label = labelProblem(h.name);
    if (label) refuse('its name', h.name, label, 'rename it');
  }
  const user = text(h, source, ['ansible_user', 'ansible_ssh_user']);
  const badUser = user === undefined ? undefined : userNameProblem(user);
  if (badUser) refuse(userVar!.name, user!, badUser, 'give the login name as it is on the host');
  const target: ResolvedTarget = {
    ...common,
    name: h.name,
    host: address ?? h.name,
    user: user ?? common.user,
    port: portNumber ?? common.port,
    // Ansible expands ~ in key paths; operators write ~/.ssh/… in inventories.
    identity: key?.replace(/^~(?=$|\/)/, os.homedir()) ?? common.identity,
  };
  const become = bool(h, source, 'ansible_become');
  if (become !== undefined) target.become = become;
  const becomeUser = text(h, source, ['ansible_become_user']);
  const badBecome = becomeUser === undefined ? undefined : userNameProblem(becomeUser);
  if (badBecome) refuse('ansible_become_user', becomeUser!, badBecome, 'give the user sudo should run commands as');
  if (becomeUser !== undefined) target.becomeUser = becomeUser;
  if (target.become === undefined) delete target.become;
  if (target.becomeUser === undefined) delete target.becomeUser;
  return target;
}

/** --host and --lab names as an inventory of ungrouped hosts, so that --limit reads the same on them. */
function namesInventory(names: string[], source: string): Inventory {
  const hosts = names.map((name) => ({ name, vars: {}, ownVars: {}, groups: ['all', 'ungrouped'] }));
  return { source, format: 'ini', hosts, groups: new Map([['all', names], ['ungrouped', names]]), groupVars: new Map(), warnings: [] };
}

function limited<T extends { name: string }>(targets: T[], limit: string | undefined, source: string): T[] {
  if (limit === undefined) return targets;
  const keep = new Set(limitInventory(namesInventory(targets.map((t) => t.name), source), limit).map((h) => h.name));
  return targets.filter((t) => keep.has(t.name));
}

function limitInventory(inv: Inventory, limit: string | undefined): InventoryHost[] {
  if (limit === undefined) return inv.hosts;
  try {
    return applyLimit(inv, limit);
  } catch (e) {
    if (e instanceof LimitError) throw new UsageError(`${e.message}\n  what to do: ${e.hint}`);
    throw e;
  }
}

export function labTarget(r: LabRecord): Target {
  return { name: r.name, host: r.address, user: 'root', identity: paths.clientKey, identitiesOnly: true, knownHostsFile: paths.knownHosts };
}

export async function resolveTargets(a: TargetArgs, progress: (line: string) => void): Promise<ResolvedTarget[]> {
  const common: Common = { user: a.user, port: a.port, identity: a.identity, knownHostsFile: a.knownHosts, acceptNewHostKey: a.acceptNewHostKey };
  if (a.become !== undefined) common.become = a.become;
  if (a.becomeUser !== undefined) common.becomeUser = a.becomeUser;
  if (a.host && (!a.host.length || a.host.some((h) => !h))) throw new UsageError('--host needs a host name or address');
  for (const h of a.host ?? []) {
    const bad = hostNameProblem(h);
    if (bad) throw new UsageError(`--host ${shownName(h)}: ${bad}`);
  }
  for (const [flag, name] of [['--user', a.user], ['--become-user', a.becomeUser]] as const) {
    const bad = name === undefined ? undefined : userNameProblem(name);
    if (bad) throw new UsageError(`${flag} ${shownName(name!)}: ${bad}`);
  }
  const given = [a.host?.length, a.inventory, a.lab].filter(Boolean).length;
  const labNames = (a.lab ?? []).filter(Boolean);
  if (given > 1) throw new UsageError('give one of --host, --inventory or --lab');
  if (a.limit !== undefined && !a.limit.trim()) throw new UsageError('--limit needs a pattern: a host or group name, e.g. --limit controllers');
  if (a.host?.length) return limited(hostTargets(a.host, a, progress).map((t) => withBecome(t, common)), a.limit, 'the --host list');
  if (a.inventory) {
    let inv: Inventory;
    try {
      inv = await loadInventory(a.inventory);
    } catch (e) {
      if (e instanceof InventoryError) throw new UsageError(`inventory ${e.message}\n  what to do: ${e.hint}`);
      throw e;
    }
    for (const w of inv.warnings) progress(`inventory: ${w}`);
    if (!inv.hosts.length) throw new UsageError(`the inventory ${a.inventory} names no host`);
    return limitInventory(inv, a.limit).map((h) => inventoryTarget(h, a.inventory!, common));
  }
  const running = listRecords().filter((r) => stateOf(r) === 'running');
  if (a.lab) {
    if (!running.length) throw new UsageError('no lab controller is running: "install-glance lab up" starts one');
    const unknown = labNames.filter((n) => !running.some((r) => r.name === n));
    if (unknown.length) throw new UsageError(`no running lab named ${unknown.join(', ')} (running: ${running.map((r) => r.name).join(', ')})`);
    return limited((labNames.length ? running.filter((r) => labNames.includes(r.name)) : running).map((r) => withBecome(labTarget(r), common)), a.limit, 'the running labs');
  }
  // No target named: the built-in one, the local lab controller.
  if (a.limit !== undefined) limited([{ name: 'controller' }], a.limit, 'the default target');
  const lab = running.find((r) => r.name === 'controller') ?? (await (await import('../lab/lab.ts')).up(['controller'], 'bookworm', progress))[0]!;
  return [withBecome(labTarget(lab), common)];
}

/** A lab target logs in as root with the lab's key; --become still applies (a lab has no sudo unless a test adds it). */
function withBecome(t: Target, common: Common): ResolvedTarget {
  return { ...t, ...(common.become !== undefined ? { become: common.become } : {}), ...(common.becomeUser !== undefined ? { becomeUser: common.becomeUser } : {}) };
}
