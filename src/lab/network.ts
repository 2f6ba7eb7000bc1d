// A lab's link to the host: a veth pair (host side igh<index>), its /24, and a chain of its own that
// lets the lab reach DNS and the Debian mirror (HTTP/HTTPS) through NAT and nothing else, not another lab.
import { sh } from './local.ts';

export const LAB_NET = '10.213';
const LABS_CIDR = `${LAB_NET}.0.0/16`;

interface Linked { name: string; index: number; nsPid: number; address: string; gateway: string }

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
}

/** Removes whatever of the lab's network exists; safe to call on a half-made lab. */
export async function removeLabNetwork(r: Linked): Promise<void> {
  const l = link(r);
  const c = chain(r);
  await sh`ip link del ${l}`.nothrow();
  for (const dir of ['-i', '-o']) {
    while ((await sh`iptables -w -D FORWARD ${dir} ${l} -m comment --comment ${comment(r)} -j ${c}`.nothrow()).exitCode === 0);
  }
  await sh`iptables -w -F ${c}`.nothrow();
  await sh`iptables -w -X ${c}`.nothrow();
  while ((await sh`iptables -w -t nat -D ${natRule(r)}`.nothrow()).exitCode === 0);
}
