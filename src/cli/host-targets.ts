// `--host NAME`: NAME as ssh would read it, through the ssh config (~/.ssh/config, or --ssh-config /
// -F FILE; "none" for no file): HostName, User, Port, keys, known_hosts, jump hosts. The command
// line's --user/--port/--identity/--known-hosts win over the file, as ssh's -l/-p/-i/-o do.
import fs from 'node:fs';
import path from 'node:path';
import type { Target } from '../engine/run-host.ts';
import { loadSshConfig, resolveHost, localContext, type SshConfig } from '../transport/ssh-config.ts';
import { UsageError } from './usage-error.ts';

export interface HostArgs {
  sshConfig?: string;
  user?: string;
  port?: number;
  identity?: string;
  knownHosts?: string;
  acceptNewHostKey?: boolean;
}

export function hostTargets(hosts: string[], a: HostArgs, say: (line: string) => void): Target[] {
  const ctx = localContext();
  let config: SshConfig = { file: 'none', entries: [] };
  if (a.sshConfig !== 'none') {
    const file = a.sshConfig ?? path.join(ctx.home, '.ssh', 'config');
    if (a.sshConfig !== undefined && !fs.existsSync(file)) throw new UsageError(`the ssh config ${file} (--ssh-config) does not exist`);
    config = loadSshConfig(file, ctx);
  }
  const cli = { user: a.user, port: a.port, identity: a.identity, knownHostsFile: a.knownHosts, acceptNewHostKey: a.acceptNewHostKey };
  const notes = new Set<string>();
  const targets = hosts.map((h) => {
    const { options, notes: n } = resolveHost(config, h, cli, ctx);
    n.forEach((line) => notes.add(line));
    return { ...options, name: h };
  });
  for (const line of notes) say(`note: ${line}`);
  return targets;
}
