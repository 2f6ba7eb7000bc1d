// `install-glance lab …`: parse, call src/lab, print. No logic of its own.
import type { Argv } from 'yargs';
import { spawnSync } from 'node:child_process';
import { listRecords, stateOf, readRecord, defaultNames, labReleases, type LabRelease } from '../lab/records.ts';

import { paths } from '../lab/paths.ts';
import { LabError } from '../lab/errors.ts';
import { labTable, labJson } from '../lab/list-view.ts';
import { progressWriter } from './lab-progress.ts';
import { decideDownAll, confirmDownAll } from './lab-down-all.ts';
import { UsageError } from './usage-error.ts';
import { integer, oneOf } from './option-checks.ts';

// The builder (zx and friends) loads only for the commands that build or remove labs.
const builder = () => import('../lab/lab.ts');

const say = progressWriter(process.stderr);

export function labCommands(y: Argv): Argv {
  return y
    .command('up [names..]', 'build (once) and start lab controllers', (a) =>
      a.positional('names', { type: 'string', array: true, describe: 'lab names (default: controller, controller-2, …)' })
        .option('count', { type: 'string', default: '1', requiresArg: true, coerce: integer('count', 1, 250), describe: 'how many labs, when no names are given (1-250: the lab network has 250 addresses)' })
        .option('release', { choices: labReleases, default: 'bookworm' as LabRelease, coerce: oneOf('release', labReleases),
          describe: 'Debian release of the lab, or juno: bookworm shaped like the Juno guide\'s Ubuntu 14.04 controller' })
        .option('tls', { type: 'boolean', default: false, describe: 'Keystone over HTTPS with a CA made for each lab (its certificate: lab list --json, caFile)' })
        .option('glance-deps', { type: 'boolean', default: false, describe: 'Glance\'s dependencies installed beforehand (from the lab\'s apt cache): a fresh apply then installs Glance\'s own packages only, in seconds' })
        .option('behind', { type: 'string', describe: 'a running lab that alone may reach these labs\' sshd (the host cannot): a bastion, for jump-host tests' })
        .example([
          ['$0 lab up', 'the lab "controller" (bookworm)'],
          ['$0 lab up a b --release trixie', 'two trixie labs, a and b'],
        ]),
    async (a) => {
      const names = a.names?.length ? a.names : defaultNames(a.count);
      const labs = await (await builder()).up(names, a.release, say, { tls: a.tls, glanceDeps: a.glanceDeps, behind: a.behind });
      for (const r of labs) process.stdout.write(`${r.name}\t${r.address}\t${r.release}\n`);
    })
    .command('snapshot', 'build the lab snapshot now if it is not cached (lab up does it when needed)', (a) =>
      a.option('release', { choices: labReleases, default: 'bookworm' as LabRelease, coerce: oneOf('release', labReleases), describe: 'as for lab up' })
        .option('tls', { type: 'boolean', default: false, describe: 'as for lab up' })
        .option('glance-deps', { type: 'boolean', default: false, describe: 'as for lab up' })
        .example([['$0 lab snapshot', 'build the bookworm snapshot now'], ['$0 lab snapshot --release bullseye', 'the bullseye one']]),
    async (a) => {
      const { preflight, stackFor } = await builder();
      const { base, variant } = stackFor(a.release, { tls: a.tls, glanceDeps: a.glanceDeps });
      await preflight();
      const s = await (await import('../lab/variant.ts')).ensureStack(base, variant, say);
      process.stdout.write(`${a.release}\t${s.id}\t${s.lowers.join(':')}\n`);
    })
    .command('down [names..]', 'stop lab controllers and remove everything they made', (a) =>
      a.positional('names', { type: 'string', array: true, describe: 'lab names' })
        .option('all', { type: 'boolean', default: false, describe: 'every lab on this machine (on a terminal, asks first)' })
        .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'with --all: do not ask' })
        .example([['$0 lab down a b', 'stop both, remove all they made'], ['$0 lab down --all --yes', 'every lab, without asking']]),
    async (a) => {
      const names = a.names ?? [];
      if (a.all && names.length) throw new UsageError('lab down takes lab names or --all, not both');
      if (a.all) {
        const labs = listRecords().map((r) => r.name);
        const decision = decideDownAll(labs, { yes: a.yes, interactive: !!process.stdin.isTTY && !!process.stderr.isTTY });
        if (decision === 'nothing') return say('no labs to take down');
        if (decision === 'ask' && !(await confirmDownAll(labs))) {
          throw new LabError('lab down --all: not confirmed; no lab was taken down', 'answer y to take them all down, or name the labs: lab down NAME…');
        }
        return (await builder()).downMany(labs, say);
      }
      if (!names.length) throw new LabError('lab down needs lab names or --all', 'e.g. "install-glance lab down controller", "install-glance lab list" shows the labs');
      await (await builder()).downMany(names, say);
    })
    .command('list', 'the lab controllers on this machine', (a) =>
      a.option('json', { type: 'boolean', default: false, describe: 'one JSON document: {version, labs: [{name, address, release, base, tls, glanceDeps, keystone, caFile, state, createdAt, snapshot}]}' })
        .example([['$0 lab list', 'name, address, release, state, age'], ['$0 lab list --json', 'the same, and more, as JSON']]),
    (a) => {
      const labs = listRecords().map((record) => ({ record, state: stateOf(record) }));
      process.stdout.write(a.json ? labJson(labs) : labTable(labs, Date.now()));
    })
    .command('ssh <name> [cmd..]', 'a shell (or a command) on a lab controller', (a) =>
      a.positional('name', { type: 'string', demandOption: true }).positional('cmd', { type: 'string', array: true })
        .example([['$0 lab ssh controller', 'a root shell there'], ['$0 lab ssh controller -- df -h', 'one command there']]),
    (a) => {
      const r = readRecord(a.name);
      if (!r || stateOf(r) !== 'running') throw new LabError(`lab ${a.name} is not running`, '"install-glance lab list" shows the labs; "install-glance lab up" starts one');
      const opts = ['-i', paths.clientKey, '-o', `UserKnownHostsFile=${paths.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'LogLevel=ERROR'];
      // A lab behind a bastion is reached through it (ProxyCommand: -J would not pass these options on).
      const bastion = r.behind && readRecord(r.behind.name);
      if (r.behind && (!bastion || stateOf(bastion) !== 'running')) throw new LabError(`lab ${a.name} is reached through ${r.behind.name}, which is not running`, `"install-glance lab up ${r.behind.name}", or take ${a.name} down and up again without --behind`);
      const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      const via = bastion ? ['-o', `ProxyCommand=${['ssh', ...opts, '-W', '%h:%p', `root@${bastion.address}`].map(quote).join(' ')}`] : [];
      const res = spawnSync('ssh', [...opts, ...via, `root@${r.address}`, ...(a.cmd ?? []), ...((a['--'] as string[] | undefined) ?? [])], { stdio: 'inherit' });
      process.exitCode = res.status ?? 1;
    })
    .demandCommand(1, 'lab needs a subcommand: up, down, list, ssh or snapshot');
}
