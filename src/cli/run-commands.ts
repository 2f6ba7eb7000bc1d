// `install-glance plan|apply|verify|destroy`: parse, resolve targets, hand a playbook to the engine,
// print as it goes. The engine and the playbooks load only when a command runs (not for --help).
import type { Argv } from 'yargs';
import type { HostReport, Mode } from '../engine/report-model.ts';
import type { Playbook, ProfileBase } from '../engine/playbook.ts';
import type { RunEvents } from '../engine/events.ts';
import { options as glanceOptions } from '../../playbooks/glance/settings.ts';
import { resolveTargets } from './targets.ts';
import { imageFile, integer, oneOf, port, text } from './option-checks.ts';
import { DISK_FORMATS } from '../images/detect.ts';
import { EXIT } from './exit-codes.ts';
import { UsageError } from './usage-error.ts';

export { EXIT };

const DESCRIBE: Record<Mode, string> = {
  plan: 'show what would change (secrets masked); exit 0 = nothing, 2 = changes',
  apply: 'plan, then change what differs; ends with a check that Glance works',
  verify: 'upload a qcow2 image (generated, or --image FILE), see it active and in the store, delete it',
};

/** Two real uses of each command, for its --help. */
const EXAMPLES: Record<Mode | 'destroy', [string, string][]> = {
  plan: [
    ['$0 plan --host 192.0.2.10', 'what apply would change there'],
    ['$0 plan --inventory hosts --json', 'the plan of each host, as JSON'],
  ],
  apply: [
    ['$0 apply --host 192.0.2.10', 'install Glance there, then check it'],
    ['$0 apply --inventory hosts -q', 'every host; only changes and errors'],
  ],
  verify: [
    ['$0 verify --host 192.0.2.10', 'upload a generated qcow2 image, see it active, delete it'],
    ['$0 verify --host 192.0.2.10 --image cirros-0.6.2-x86_64-disk.img --keep', 'upload your own image and keep it (its id is printed)'],
  ],
  destroy: [
    ['$0 destroy --host 192.0.2.10', 'the plan of removing it; removes nothing'],
    ['$0 destroy --lab controller --yes', 'remove it without asking'],
  ],
};

const RELEASES = ['juno', 'bullseye', 'bookworm', 'trixie'] as const;

function options(y: Argv) {
  let a = y
    .option('host', { type: 'string', array: true, requiresArg: true, describe: 'a controller to reach over SSH (repeatable)' })
    .option('inventory', { type: 'string', requiresArg: true, coerce: text('inventory'), describe: 'an Ansible inventory: INI, YAML, an executable script, or (with ansible-inventory) a plugin config or directory' })
    .option('limit', { type: 'string', requiresArg: true, describe: 'only the hosts matching this Ansible pattern (hosts, groups, web*, a:b, !group, &group)' })
    .option('lab', { type: 'string', array: true, describe: 'lab controllers by name; alone, every running one (default target: the lab "controller")' })
    .option('user', { type: 'string', requiresArg: true, coerce: text('user'), describe: 'SSH user (default root)' })
    .option('port', { type: 'string', requiresArg: true, coerce: port(), describe: 'SSH port, 1-65535 (default 22)' })
    .option('identity', { type: 'string', requiresArg: true, coerce: text('identity'), describe: 'SSH private key file' })
    .option('known-hosts', { type: 'string', requiresArg: true, coerce: text('known-hosts'), describe: 'known_hosts file (default ~/.ssh/known_hosts)' })
    .option('ssh-config', { alias: 'F', type: 'string', requiresArg: true, coerce: text('ssh-config'), describe: 'ssh config for --host names: Host, HostName, User, Port, IdentityFile, ProxyJump… (default ~/.ssh/config; "none": none)' })
    .option('accept-new-host-key', { type: 'boolean', default: false, describe: 'trust and record an unknown host key (a changed one is always refused)' })
    .option('become', { alias: 'b', type: 'boolean', describe: 'run every remote command through sudo (an inventory\'s ansible_become wins)' })
    .option('become-user', { type: 'string', requiresArg: true, coerce: text('become-user'), describe: 'whom sudo runs commands as (default root; ansible_become_user wins)' })
    .option('ask-become-pass', { alias: 'K', type: 'boolean', default: false, describe: 'ask sudo\'s password once (no echo on a terminal, else the first line of stdin)' })
    .option('secrets', { type: 'string', requiresArg: true, coerce: text('secrets'), describe: 'a team\'s secrets file (JSON, keyed by host or flat); the environment\'s GLANCE_DBPASS/GLANCE_PASS win over it' })
    .option('rotate-secrets', { type: 'boolean', default: false, describe: 'set new passwords (MySQL/Keystone first, then the config, then the restart)' })
    .option('release', { choices: RELEASES, coerce: oneOf('release', RELEASES), describe: 'release profile (default: detected)' })
    .option('forks', { type: 'string', default: '5', requiresArg: true, coerce: integer('forks', 1), describe: 'hosts at once, at least 1' })
    .option('json', { type: 'boolean', default: false, describe: 'one JSON report on stdout (schema/report.schema.json); human lines go to stderr' })
    .option('verbose', { alias: 'v', type: 'boolean', describe: 'also show every remote command and API call (method, URL, status, time; secrets masked)' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'show only changes and errors' })
    .option('wait', { type: 'boolean', default: true, describe: 'apply: wait for another run on the host (--no-wait: refuse, naming it)' })
    .option('rollback', { type: 'boolean', default: true, describe: 'restart fails on a new config: put the old back (--no-rollback: keep new)' })
    .conflicts('verbose', 'quiet');
  for (const o of glanceOptions) {
    a = a.option(o.name, {
      type: o.type, describe: o.describe, ...(o.default !== undefined ? { default: o.default } : {}),
      ...(o.type === 'string' ? { requiresArg: true, coerce: text(o.name) } : {}),
      // A number is checked as --forks is: whole, not negative, given once (yargs' own parse takes "abc" as NaN).
      ...(o.type === 'number' ? { type: 'string' as const, requiresArg: true, coerce: integer(o.name, 0) } : {}),
    });
  }
  return a;
}

/** `verify` only: the operator's own image instead of the generated one. */
function verifyOptions(y: Argv) {
  return y
    .option('image', { type: 'string', requiresArg: true, coerce: imageFile('image'), describe: 'upload this disk image (e.g. cirros) instead of a generated qcow2; its format is read from its header' })
    .option('disk-format', { choices: DISK_FORMATS, requiresArg: true, coerce: oneOf('disk-format', DISK_FORMATS), describe: 'the image\'s disk_format, when not the one its header says (with --image)' })
    .option('keep', { type: 'boolean', default: false, describe: 'leave the uploaded image in Glance and print its id' })
    .check((a) => {
      if (a['disk-format'] !== undefined && a.image === undefined) throw new UsageError('--disk-format says what the --image FILE is: give --image too');
      return true;
    });
}

type Args = Awaited<ReturnType<typeof options>['argv']>;

/** Who made a report and when, for --json. */
async function runInfo(mode: Mode, startedAt: Date) {
  const { buildInfo } = await import('./build-info.ts');
  return { tool: { name: 'install-glance', ...buildInfo() }, startedAt: startedAt.toISOString(), mode };
}

async function run<S, P extends ProfileBase>(a: Args, mode: Mode, loadPlaybook: () => Promise<Playbook<S, P>>): Promise<HostReport[]> {
  // What connecting needs first; the engine and the playbook load while the first hosts shake hands.
  const [{ connectTarget }, { earlyConnections }, { Live }] = await Promise.all([import('./connect-target.ts'), import('./early-connect.ts'), import('./live.ts')]);
  const human = a.json ? process.stderr : process.stdout;
  const live = new Live(human, process.stderr);
  const targets = await resolveTargets(
    { host: a.host, inventory: a.inventory, lab: a.lab, user: a.user, port: a.port, identity: a.identity, knownHosts: a['known-hosts'], acceptNewHostKey: a['accept-new-host-key'], limit: a.limit,
      sshConfig: a['ssh-config'], become: a.become, becomeUser: a['become-user'] },
    (line) => live.note(line),
  );
  const becomePassword = a['ask-become-pass'] ? await (await import('./become-password.ts')).askBecomePassword() : undefined;
  const early = earlyConnections(targets, a.forks, connectTarget(becomePassword));
  try {
    const [playbook, { runHosts }, { operatorSecrets }, { JOURNAL, RUN_LOCK, RUN_LOCK_WAIT_MS }, { RunDisplay }, { paintFor }] = await Promise.all([
      loadPlaybook(), import('../engine/pool.ts'), import('../secrets/layers.ts'), import('../state-paths.ts'), import('./run-display.ts'), import('./colour.ts'),
    ]);
    const display = new RunDisplay(live, {
      mode, verbosity: a.quiet ? 'quiet' : a.verbose ? 'verbose' : 'normal', prefixed: targets.length > 1 && a.forks > 1,
      paint: paintFor(human), logPaint: paintFor(process.stderr),
    });
    const settings = playbook.settings(a as Record<string, unknown>, process.env);
    const secrets = operatorSecrets({ env: process.env, teamFile: a.secrets });
    // The trace costs a wrapper around every remote call: asked for only with -v.
    const events: RunEvents = { ...display.events, ...(a.verbose ? { trace: (host, e) => display.trace(host, e) } : {}) };
    // Only a run that changes the target takes its lock: plan and verify read, and must not queue behind an apply.
    const runLock = mode === 'apply' ? { path: RUN_LOCK, wait: a.wait, timeoutMs: RUN_LOCK_WAIT_MS, tool: 'install-glance' } : undefined;
    const reports = await runHosts(targets, {
      mode, playbook, settings, release: a.release, secrets, rotateSecrets: a['rotate-secrets'], journalPath: JOURNAL, connect: early.connect,
      progress: (host, line) => display.progress(host, line), events, runLock, rollback: a.rollback,
    }, a.forks);
    display.finish(reports);
    return reports;
  } finally {
    early.closeUnused();
    live.clear();
  }
}

async function printJson(a: Args, reports: HostReport[], mode: Mode, startedAt: Date): Promise<void> {
  if (!a.json) return;
  const { jsonReport } = await import('../engine/report.ts');
  process.stdout.write(jsonReport(reports, await runInfo(mode, startedAt)) + '\n');
}

async function exitStatus(reports: HostReport[]): Promise<number> {
  const { runExitStatus } = await import('../engine/report.ts');
  return runExitStatus(reports);
}

const failed = (reports: HostReport[]) => reports.some((r) => r.error || r.failed);
const pending = (reports: HostReport[]) => reports.some((r) => r.changed > 0 || r.handlers.length > 0);

export function runCommand(mode: Mode) {
  return {
    command: mode,
    describe: DESCRIBE[mode],
    // verify's own options reach the playbook's settings with the others (settings.ts reads them).
    builder: (y: Argv) => (mode === 'verify' ? (verifyOptions(options(y)) as unknown as ReturnType<typeof options>) : options(y)).example(EXAMPLES[mode]),
    handler: async (a: Args) => {
      const startedAt = new Date();
      const reports = await run(a, mode, async () => (await import('../../playbooks/glance/index.ts')).glancePlaybook);
      await printJson(a, reports, mode, startedAt);
      process.exitCode = await exitStatus(reports);
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
  describe: 'remove what apply made (Keystone, MariaDB, packages, config); --yes to do it',
  builder: (y: Argv) => options(y).option('yes', { type: 'boolean', default: false, describe: 'remove without asking' }).example(EXAMPLES.destroy),
  handler: async (a: Args & { yes: boolean }) => {
    const startedAt = new Date();
    const destroyPlaybook = async () => (await import('../../playbooks/glance/destroy.ts')).glanceDestroyPlaybook;
    const planned = await run(a, 'plan', destroyPlaybook);
    if (failed(planned) || !pending(planned)) {
      await printJson(a, planned, 'plan', startedAt);
      process.exitCode = failed(planned) ? EXIT.failed : EXIT.ok;
      return;
    }
    if (!a.yes) {
      // --json: one document, the plan of the removal.
      await printJson(a, planned, 'plan', startedAt);
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
    // --json with --yes: one document, the removal itself.
    const done = await run(a, 'apply', destroyPlaybook);
    await printJson(a, done, 'apply', startedAt);
    process.exitCode = failed(done) ? EXIT.failed : EXIT.ok;
  },
};
