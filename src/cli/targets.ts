// Which hosts a run targets: --host (repeatable), an Ansible-style INI inventory, every running lab
// controller (--lab), or by default the local lab `controller`, brought up when it is not running.
import fs from 'node:fs';
import type { Target } from '../engine/run.ts';
import { listRecords, stateOf, type LabRecord } from '../lab/records.ts';
import { paths } from '../lab/paths.ts';
import { UsageError } from './usage-error.ts';
import { hostTargets } from './host-targets.ts';

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
  /** For --host: the ssh config file (default ~/.ssh/config; "none": no file). */
  sshConfig?: string;
}

export function labTarget(r: LabRecord): Target {
  return { name: r.name, host: r.address, user: 'root', identity: paths.clientKey, identitiesOnly: true, knownHostsFile: paths.knownHosts };
}

/** `name key=value …` lines under [group] headers; [group:vars] and [all:vars] give defaults. */
export function parseInventory(text: string): { name: string; vars: Record<string, string> }[] {
  const hosts = new Map<string, Record<string, string>>();
  const groupVars = new Map<string, Record<string, string>>();
  const members = new Map<string, string[]>();
  let section = 'ungrouped';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').replace(/\s[#;].*$/, '').trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const h = /^\[([^\]]+)\]$/.exec(line);
    if (h) { section = h[1]!; continue; }
    const [first, ...rest] = line.split(/\s+/);
    const kv = Object.fromEntries(rest.map((p) => p.split('=')).filter((p) => p.length >= 2).map(([k, ...v]) => [k!, v.join('=').replace(/^["']|["']$/g, '')]));
    if (section.endsWith(':vars')) {
      const [k, ...v] = line.split('=');
      const g = section.slice(0, -5);
      groupVars.set(g, { ...groupVars.get(g), [k!.trim()]: v.join('=').trim().replace(/^["']|["']$/g, '') });
      continue;
    }
    if (section.endsWith(':children')) continue;
    hosts.set(first!, { ...hosts.get(first!), ...kv });
    members.set(section, [...(members.get(section) ?? []), first!]);
  }
  return [...hosts].map(([name, vars]) => {
    const groups = [...members].filter(([, m]) => m.includes(name)).map(([g]) => g);
    return { name, vars: { ...groupVars.get('all'), ...Object.assign({}, ...groups.map((g) => groupVars.get(g) ?? {})), ...vars } };
  });
}

export async function resolveTargets(a: TargetArgs, progress: (line: string) => void): Promise<Target[]> {
  const common = { user: a.user, port: a.port, identity: a.identity, knownHostsFile: a.knownHosts, acceptNewHostKey: a.acceptNewHostKey };
  if (a.host && (!a.host.length || a.host.some((h) => !h))) throw new UsageError('--host needs a host name or address');
  const given = [a.host?.length, a.inventory, a.lab].filter(Boolean).length;
  const labNames = (a.lab ?? []).filter(Boolean);
  if (given > 1) throw new UsageError('give one of --host, --inventory or --lab');
  if (a.host?.length) return hostTargets(a.host, a, progress);
  if (a.inventory) {
    let text: string;
    try {
      text = fs.readFileSync(a.inventory, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read the inventory ${a.inventory}: ${(e as Error).message}`);
    }
    const hosts = parseInventory(text);
    if (!hosts.length) throw new UsageError(`the inventory ${a.inventory} names no host`);
    return hosts.map(({ name, vars }) => ({
      ...common,
      name,
      host: vars.ansible_host ?? name,
      user: vars.ansible_user ?? common.user,
      port: vars.ansible_port ? Number(vars.ansible_port) : common.port,
      identity: vars.ansible_ssh_private_key_file ?? common.identity,
    }));
  }
  const running = listRecords().filter((r) => stateOf(r) === 'running');
  if (a.lab) {
    if (!running.length) throw new UsageError('no lab controller is running: "install-glance lab up" starts one');
    const unknown = labNames.filter((n) => !running.some((r) => r.name === n));
    if (unknown.length) throw new UsageError(`no running lab named ${unknown.join(', ')} (running: ${running.map((r) => r.name).join(', ')})`);
    return (labNames.length ? running.filter((r) => labNames.includes(r.name)) : running).map(labTarget);
  }
  // No target named: the built-in one, the local lab controller.
  const lab = running.find((r) => r.name === 'controller') ?? (await (await import('../lab/lab.ts')).up(['controller'], 'bookworm', progress))[0]!;
  return [labTarget(lab)];
}
