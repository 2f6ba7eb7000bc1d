// A lab's link to the host: a veth pair (host side igh<index>), its /24, and a chain of its own that
// lets the lab reach DNS and the Debian mirror (HTTP/HTTPS) through NAT and nothing else, not another lab.
// A lab `behind` a bastion lab (for jump-host tests) also: the bastion may open its sshd, and the host
// may not open anything on it but Keystone's port, which the lab builder's readiness check uses.
import fs from 'node:fs';
import { sh } from './local.ts';

export const LAB_NET = '10.213';
const LABS_CIDR = `${LAB_NET}.0.0/16`;

interface Linked { name: string; index: number; nsPid: number; address: string; gateway: string; behind?: { name: string; address: string } }

const link = (r: { index: number }) => `igh${r.index}`;
const chain = (r: { index: number }) => `IG-LAB-${r.index}`;
const comment = (r: { name: string }) => `install-glance lab ${r.name}`;

function natRule(r: Linked): string[] {
  return ['POSTROUTING', '-s', `${LAB_NET}.${r.index}.0/24`, '!', '-d', LABS_CIDR, '-m', 'comment', '--comment', comment(r), '-j', 'MASQUERADE'];
}

export async function addLabNetwork(r: Linked): Promise<void> {
  const l = link(r);
  const c = chain(r);
  await sh`ip link add ${l} type veth peer name eth0 netns ${r.nsPid}`;
  await sh`ip addr add ${`${r.gateway}/24`} dev ${l}`;
  await sh`ip link set ${l} up`;
  await sh`sysctl -qw net.ipv4.ip_forward=1`;
  await sh`iptables -w -N ${c}`;
  const rules: string[][] = [
    ['-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'],
    ['-d', LABS_CIDR, '-j', 'DROP'],
    ['-p', 'udp', '--dport', '53', '-j', 'ACCEPT'],
    ['-p', 'tcp', '-m', 'multiport', '--dports', '53,80,443', '-j', 'ACCEPT'],
    ['-j', 'DROP'],
  ];
  for (const rule of rules) await sh`iptables -w -A ${c} ${rule}`;
  await sh`iptables -w -I FORWARD -i ${l} -m comment --comment ${comment(r)} -j ${c}`;
  await sh`iptables -w -I FORWARD -o ${l} -m comment --comment ${comment(r)} -j ${c}`;
  await sh`iptables -w -t nat -A ${natRule(r)}`;
  // Inserted on top, in reverse: above every lab's chain jump (which drops lab-to-lab traffic).
  for (const [where, rule] of behindRules(r).reverse()) await sh`iptables -w -I ${where} ${rule}`;
}

const KEYSTONE_PORT = '5000';

/** The rules that put a lab behind its bastion, in order: [chain, rule]. */
function behindRules(r: Linked): [string, string[]][] {
  if (!r.behind) return [];
  const tag = ['-m', 'comment', '--comment', comment(r)];
  return [
    ['FORWARD', ['-s', r.behind.address, '-d', r.address, '-p', 'tcp', '--dport', '22', ...tag, '-j', 'ACCEPT']],
    ['OUTPUT', ['-o', link(r), '-p', 'tcp', '--dport', KEYSTONE_PORT, ...tag, '-j', 'ACCEPT']],
    ['OUTPUT', ['-o', link(r), '-m', 'conntrack', '--ctstate', 'NEW', ...tag, '-j', 'DROP']],
  ];
}

/**
 * sshd listens in the lab (its network namespace's TCP table, read through its PID 1): how the builder
 * knows sshd is up on a lab the host may not connect to.
 */
export function sshdListening(nsPid: number): boolean {
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${nsPid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    // local_address is HEXIP:HEXPORT, st 0A is LISTEN; port 22 is 0016.
    if (text.split('\n').some((l) => { const f = l.trim().split(/\s+/); return f[1]?.endsWith(':0016') && f[3] === '0A'; })) return true;
  }
  return false;
}

/** Removes whatever of the lab's network exists; safe to call on a half-made lab. */
export async function removeLabNetwork(r: Linked): Promise<void> {
  const l = link(r);
  const c = chain(r);
  await sh`ip link del ${l}`.nothrow();
  for (const dir of ['-i', '-o']) {
    while ((await sh`iptables -w -D FORWARD ${dir} ${l} -m comment --comment ${comment(r)} -j ${c}`.nothrow()).exitCode === 0);
  }
  for (const [where, rule] of behindRules(r)) while ((await sh`iptables -w -D ${where} ${rule}`.nothrow()).exitCode === 0);
  await sh`iptables -w -F ${c}`.nothrow();
  await sh`iptables -w -X ${c}`.nothrow();
  while ((await sh`iptables -w -t nat -D ${natRule(r)}`.nothrow()).exitCode === 0);
}
