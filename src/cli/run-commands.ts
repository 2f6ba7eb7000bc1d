// `install-glance plan|apply|verify|destroy`: parse, resolve targets, hand a playbook to the engine,
// print. The engine and the playbooks load only when a command runs (not for --help).
import type { Argv } from 'yargs';
import type { HostReport, Mode } from '../engine/report-model.ts';
import type { Playbook, ProfileBase } from '../engine/playbook.ts';
import { options as glanceOptions } from '../../playbooks/glance/settings.ts';
import { resolveTargets } from './targets.ts';

import { EXIT } from './exit-codes.ts';

export { EXIT };

const DESCRIBE: Record<Mode, string> = {
  plan: 'show what would change (secrets masked); exit 0 = nothing, 2 = changes',
  apply: 'plan, then change what differs; ends with a check that Glance works',
  verify: 'upload a small image, see it active and in the store, delete it',
};

const RELEASES = ['juno', 'bullseye', 'bookworm', 'trixie'];

function options(y: Argv) {
  let a = y
    .option('host', { type: 'string', array: true, describe: 'a controller to reach over SSH (repeatable)' })
    .option('inventory', { type: 'string', describe: 'an Ansible inventory: INI, YAML, an executable script, or (with ansible-inventory) a plugin config or directory' })
    .option('limit', { type: 'string', describe: 'only the hosts matching this Ansible pattern (hosts, groups, web*, a:b, !group, &group)' })
    .option('lab', { type: 'string', array: true, describe: 'lab controllers by name; alone, every running one (default target: the lab "controller")' })
    .option('user', { type: 'string', describe: 'SSH user (default root)' })
    .option('port', { type: 'number', describe: 'SSH port (default 22)' })
    .option('identity', { type: 'string', describe: 'SSH private key file' })
    .option('known-hosts', { type: 'string', describe: 'known_hosts file (default ~/.ssh/known_hosts)' })
    .option('accept-new-host-key', { type: 'boolean', default: false, describe: 'trust and record an unknown host key (a changed one is always refused)' })
    .option('release', { choices: RELEASES, describe: 'release profile (default: detected)' })
    .option('forks', { type: 'number', default: 5, describe: 'hosts at once' })
    .option('json', { type: 'boolean', default: false, describe: 'one JSON report on stdout; human lines go to stderr' })
    .option('wait', { type: 'boolean', default: true, describe: 'wait for another run that holds the target (apply); --no-wait refuses at once, naming it' })
    .option('rollback', { type: 'boolean', default: true, describe: 'restore the previous config file when the service does not restart on the new one; --no-rollback keeps it for debugging' });
  for (const o of glanceOptions) a = a.option(o.name, { type: o.type, describe: o.describe, ...(o.default !== undefined ? { default: o.default } : {}) });
  return a;
}

type Args = Awaited<ReturnType<typeof options>['argv']>;

async function run<S, P extends ProfileBase>(a: Args, mode: Mode, playbook: Playbook<S, P>): Promise<HostReport[]> {
  const [{ runHosts }, { localSecrets }, { JOURNAL, RUN_LOCK, RUN_LOCK_WAIT_MS }] = await Promise.all([
    import('../engine/pool.ts'), import('../secrets/local-file.ts'), import('../state-paths.ts'),
  ]);
  const progress = (host: string, line: string) => process.stderr.write(`${host}: ${line}\n`);
  const targets = await resolveTargets(
    { host: a.host, inventory: a.inventory, lab: a.lab, user: a.user, port: a.port, identity: a.identity, knownHosts: a['known-hosts'], acceptNewHostKey: a['accept-new-host-key'], limit: a.limit },
    (line) => process.stderr.write(line + '\n'),
  );
  const settings = playbook.settings(a as Record<string, unknown>, process.env);
  // Only a run that changes the target takes its lock: plan and verify read, and must not queue behind an apply.
  const runLock = mode === 'apply' ? { path: RUN_LOCK, wait: a.wait, timeoutMs: RUN_LOCK_WAIT_MS } : undefined;
  return runHosts(targets, { mode, playbook, settings, release: a.release, secrets: localSecrets(), journalPath: JOURNAL, progress, runLock, rollback: a.rollback }, a.forks);
}

async function print(a: Args, reports: HostReport[]): Promise<void> {
  const { formatHost, jsonReport } = await import('../engine/report.ts');
  const human = (s: string) => (a.json ? process.stderr : process.stdout).write(s + '\n');
  for (const r of reports) human(formatHost(r));
  if (a.json) process.stdout.write(jsonReport(reports) + '\n');
}

const failed = (reports: HostReport[]) => reports.some((r) => r.error || r.failed);
const pending = (reports: HostReport[]) => reports.some((r) => r.changed > 0 || r.handlers.length > 0);

export function runCommand(mode: Mode) {
  return {
    command: mode,
    describe: DESCRIBE[mode],
    builder: options,
    handler: async (a: Args) => {
      const { glancePlaybook } = await import('../../playbooks/glance/index.ts');
      const reports = await run(a, mode, glancePlaybook);
      await print(a, reports);
      process.exitCode = failed(reports) ? EXIT.failed : mode === 'plan' && pending(reports) ? EXIT.changes : EXIT.ok;
    },
  };
}

/** Asks on the terminal; anything but "yes" is no. */
async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

export const destroyCommand = {
  command: 'destroy',
  describe: 'remove what apply made (Keystone objects, database, packages, config, local secrets): the plan first; --yes to remove',
  builder: (y: Argv) => options(y).option('yes', { type: 'boolean', default: false, describe: 'remove without asking' }),
  handler: async (a: Args & { yes: boolean }) => {
    const { glanceDestroyPlaybook } = await import('../../playbooks/glance/destroy.ts');
    const planned = await run(a, 'plan', glanceDestroyPlaybook);
    if (failed(planned) || !pending(planned)) {
      await print(a, planned);
      process.exitCode = failed(planned) ? EXIT.failed : EXIT.ok;
      return;
    }
    if (!a.yes) {
      await print(a, planned);
      const hosts = planned.filter((r) => r.changed > 0).map((r) => r.host);
      if (!process.stdin.isTTY || !process.stderr.isTTY || a.json) {
        process.stderr.write(`nothing was removed: run again with --yes to remove the above from ${hosts.join(', ')}\n`);
        process.exitCode = EXIT.changes;
        return;
      }
      if (!(await confirm(`remove the above from ${hosts.join(', ')}? this cannot be undone; type yes: `))) {
        process.stderr.write('nothing was removed\n');
        process.exitCode = EXIT.changes;
        return;
      }
    }
    const done = await run(a, 'apply', glanceDestroyPlaybook);
    await print(a, done);
    process.exitCode = failed(done) ? EXIT.failed : EXIT.ok;
  },
};

