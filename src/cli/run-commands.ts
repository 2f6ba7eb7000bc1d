// `install-glance plan|apply|verify`: parse, resolve targets, hand the playbook to the engine, print.
import type { Argv } from 'yargs';
import { runHosts, type Mode, type HostReport } from '../engine/run.ts';
import { formatHost, jsonReport } from '../engine/report.ts';
import { defaultSettings } from '../engine/settings.ts';
import { glancePlaybook } from '../../playbooks/glance.ts';
import { resolveTargets } from './targets.ts';
import type { ProfileId } from '../profiles/profiles.ts';

export const EXIT = { ok: 0, failed: 1, changes: 2, usage: 64 } as const;

const DESCRIBE: Record<Mode, string> = {
  plan: 'show what would change (secrets masked); exit 0 = nothing, 2 = changes',
  apply: 'plan, then change what differs; ends with a check that Glance works',
  verify: 'upload a small image, see it active and in the store, delete it',
};

function options(y: Argv) {
  return y
    .option('host', { type: 'string', array: true, describe: 'a controller to reach over SSH (repeatable)' })
    .option('inventory', { type: 'string', describe: 'an Ansible-style INI inventory' })
    .option('lab', { type: 'string', array: true, describe: 'lab controllers by name; alone, every running one (default target: the lab "controller")' })
    .option('user', { type: 'string', describe: 'SSH user (default root)' })
    .option('port', { type: 'number', describe: 'SSH port (default 22)' })
    .option('identity', { type: 'string', describe: 'SSH private key file' })
    .option('known-hosts', { type: 'string', describe: 'known_hosts file (default ~/.ssh/known_hosts)' })
    .option('ssh-config', { alias: 'F', type: 'string', describe: 'ssh config for --host names: Host, HostName, User, Port, IdentityFile, ProxyJump… (default ~/.ssh/config; "none": none)' })
    .option('accept-new-host-key', { type: 'boolean', default: false, describe: 'trust and record an unknown host key (a changed one is always refused)' })
    .option('release', { choices: ['juno', 'bullseye', 'bookworm', 'trixie'], describe: 'release profile (default: detected)' })
    .option('controller', { type: 'string', default: 'controller', describe: 'the name the endpoints and config use for the controller' })
    .option('region', { type: 'string', default: 'RegionOne' })
    .option('endpoint-url', { type: 'string', describe: 'Glance endpoint URL (default http://<controller>:9292)' })
    .option('forks', { type: 'number', default: 5, describe: 'hosts at once' })
    .option('json', { type: 'boolean', default: false, describe: 'one JSON report on stdout; human lines go to stderr' });
}

export function runCommand(mode: Mode) {
  return {
    command: mode,
    describe: DESCRIBE[mode],
    builder: options,
    handler: async (a: Awaited<ReturnType<typeof options>['argv']>) => {
      const human = (s: string) => (a.json ? process.stderr : process.stdout).write(s + '\n');
      const progress = (host: string, line: string) => process.stderr.write(`${host}: ${line}\n`);
      const targets = await resolveTargets(
        { host: a.host, inventory: a.inventory, lab: a.lab, user: a.user, port: a.port, identity: a.identity, knownHosts: a['known-hosts'], acceptNewHostKey: a['accept-new-host-key'],
          sshConfig: a['ssh-config'] },
        (line) => process.stderr.write(line + '\n'),
      );
      const settings = defaultSettings({ controller: a.controller, region: a.region, endpointUrl: a['endpoint-url'] });
      const reports: HostReport[] = await runHosts(targets, { mode, release: a.release as ProfileId | undefined, settings, playbook: glancePlaybook, progress }, a.forks);
      for (const r of reports) human(formatHost(r));
      if (a.json) process.stdout.write(jsonReport(reports) + '\n');
      const failed = reports.some((r) => r.error || r.failed);
      const pending = reports.some((r) => r.changed > 0 || r.handlers.length > 0);
      process.exitCode = failed ? EXIT.failed : mode === 'plan' && pending ? EXIT.changes : EXIT.ok;
    },
  };
}
