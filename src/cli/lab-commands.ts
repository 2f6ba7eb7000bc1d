// `install-glance lab …`: parse, call src/lab, print. No logic of its own.
import type { Argv } from 'yargs';
import { spawnSync } from 'node:child_process';
import { listRecords, stateOf, readRecord, defaultNames, releases, type Release } from '../lab/records.ts';

// The builder (zx and friends) loads only for the commands that build or remove labs.
const builder = () => import('../lab/lab.ts');
import { paths } from '../lab/paths.ts';
import { LabError } from '../lab/errors.ts';
import { integer, oneOf } from './option-checks.ts';

const say = (line: string) => process.stderr.write(line + '\n');

function age(iso: string): string {
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

export function labCommands(y: Argv): Argv {
  return y
    .command('up [names..]', 'build (once) and start lab controllers', (a) =>
      a.positional('names', { type: 'string', array: true, describe: 'lab names (default: controller, controller-2, …)' })
        .option('count', { type: 'string', default: '1', requiresArg: true, coerce: integer('count', 1, 250), describe: 'how many labs, when no names are given (1-250: the lab network has 250 addresses)' })
        .option('release', { choices: releases, default: 'bookworm' as Release, coerce: oneOf('release', releases), describe: 'Debian release of the lab' })
        .example([
          ['$0 lab up', 'the lab "controller" (bookworm)'],
          ['$0 lab up a b --release trixie', 'two trixie labs, a and b'],
        ]),
    async (a) => {
      const names = a.names?.length ? a.names : defaultNames(a.count);
      const labs = await (await builder()).up(names, a.release, say);
      for (const r of labs) process.stdout.write(`${r.name}\t${r.address}\t${r.release}\n`);
    })
    .command('snapshot', 'build the lab snapshot now if it is not cached (lab up does it when needed)', (a) =>
      a.option('release', { choices: releases, default: 'bookworm' as Release, coerce: oneOf('release', releases), describe: 'Debian release' })
        .example([['$0 lab snapshot', 'build the bookworm snapshot now'], ['$0 lab snapshot --release bullseye', 'the bullseye one']]),
    async (a) => {
      const { preflight } = await builder();
      await preflight();
      const s = await (await import('../lab/snapshot.ts')).ensureSnapshot(a.release, say);
      process.stdout.write(`${s.release}\t${s.key}\t${s.rootfs}\n`);
    })
    .command('down [name]', 'stop a lab controller and remove everything it made', (a) =>
      a.positional('name', { type: 'string' }).option('all', { type: 'boolean', default: false, describe: 'every lab on this machine' })
        .example([['$0 lab down controller', 'stop it, remove all it made'], ['$0 lab down --all', 'every lab on this machine']]),
    async (a) => {
      if (a.all) return (await builder()).downAll(say);
      if (!a.name) throw new LabError('lab down needs a name or --all', 'e.g. "install-glance lab down controller"');
      await (await builder()).down(a.name, say);
    })
    .command('list', 'the lab controllers on this machine', (a) => a.example([['$0 lab list', 'name, address, release, state, age'], ['$0 lab list | cut -f1', 'only the names']]), () => {
      const rows = listRecords();
      process.stdout.write(['NAME\tADDRESS\tRELEASE\tSTATE\tAGE', ...rows.map((r) => `${r.name}\t${r.address}\t${r.release}\t${stateOf(r)}\t${age(r.createdAt)}`)].join('\n') + '\n');
    })
    .command('ssh <name> [cmd..]', 'a shell (or a command) on a lab controller', (a) =>
      a.positional('name', { type: 'string', demandOption: true }).positional('cmd', { type: 'string', array: true })
        .example([['$0 lab ssh controller', 'a root shell there'], ['$0 lab ssh controller -- df -h', 'one command there']]),
    (a) => {
      const r = readRecord(a.name);
      if (!r || stateOf(r) !== 'running') throw new LabError(`lab ${a.name} is not running`, '"install-glance lab list" shows the labs; "install-glance lab up" starts one');
      const res = spawnSync('ssh', ['-i', paths.clientKey, '-o', `UserKnownHostsFile=${paths.knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
        '-o', 'LogLevel=ERROR', `root@${r.address}`, ...(a.cmd ?? []), ...((a['--'] as string[] | undefined) ?? [])], { stdio: 'inherit' });
      process.exitCode = res.status ?? 1;
    })
    .demandCommand(1, 'lab needs a subcommand: up, down, list, ssh or snapshot');
}
