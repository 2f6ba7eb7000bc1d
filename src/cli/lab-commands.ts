// `install-glance lab …`: parse, call src/lab, print. No logic of its own.
import type { Argv } from 'yargs';
import { spawnSync } from 'node:child_process';
import { listRecords, stateOf, readRecord, defaultNames, labReleases, type LabRelease } from '../lab/records.ts';

// The builder (zx and friends) loads only for the commands that build or remove labs.
const builder = () => import('../lab/lab.ts');
import { paths } from '../lab/paths.ts';
import { LabError } from '../lab/errors.ts';

const say = (line: string) => process.stderr.write(line + '\n');

function age(iso: string): string {
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

export function labCommands(y: Argv): Argv {
  return y
    .command('up [names..]', 'build (once) and start lab controllers', (a) =>
      a.positional('names', { type: 'string', array: true, describe: 'lab names (default: controller, controller-2, …)' })
        .option('count', { type: 'number', default: 1, describe: 'how many labs, when no names are given' })
        .option('release', { choices: labReleases, default: 'bookworm' as LabRelease,
          describe: 'Debian release of the lab, or juno: bookworm shaped like the Juno guide\'s Ubuntu 14.04 controller' })
        .option('tls', { type: 'boolean', default: false, describe: 'Keystone over HTTPS with a CA made for each lab (its certificate: lab list --json, caFile)' }),
    async (a) => {
      const names = a.names?.length ? a.names : defaultNames(a.count);
      const labs = await (await builder()).up(names, a.release, say, { tls: a.tls });
      for (const r of labs) process.stdout.write(`${r.name}\t${r.address}\t${r.release}\n`);
    })
    .command('snapshot', 'build the lab snapshot now if it is not cached (lab up does it when needed)', (a) =>
      a.option('release', { choices: labReleases, default: 'bookworm' as LabRelease, describe: 'as for lab up' })
        .option('tls', { type: 'boolean', default: false, describe: 'as for lab up' }),
    async (a) => {
      const { preflight, stackFor } = await builder();
      const { base, variant } = stackFor(a.release, { tls: a.tls });
      await preflight();
      const s = await (await import('../lab/variant.ts')).ensureStack(base, variant, say);
      process.stdout.write(`${a.release}\t${s.id}\t${s.lowers.join(':')}\n`);
    })
    .command('down [name]', 'stop a lab controller and remove everything it made', (a) =>
      a.positional('name', { type: 'string' }).option('all', { type: 'boolean', default: false }),
    async (a) => {
      if (a.all) return (await builder()).downAll(say);
      if (!a.name) throw new LabError('lab down needs a name or --all', 'e.g. "install-glance lab down controller"');
      await (await builder()).down(a.name, say);
    })
    .command('list', 'the lab controllers on this machine', () => {}, () => {
      const rows = listRecords();
      process.stdout.write(['NAME\tADDRESS\tRELEASE\tSTATE\tAGE', ...rows.map((r) => `${r.name}\t${r.address}\t${r.release}\t${stateOf(r)}\t${age(r.createdAt)}`)].join('\n') + '\n');
    })
    .command('ssh <name> [cmd..]', 'a shell (or a command) on a lab controller', (a) =>
      a.positional('name', { type: 'string', demandOption: true }).positional('cmd', { type: 'string', array: true }),
    (a) => {
      const r = readRecord(a.name);
      if (!r || stateOf(r) !== 'running') throw new LabError(`lab ${a.name} is not running`, '"install-glance lab list" shows the labs; "install-glance lab up" starts one');
      const res = spawnSync('ssh', ['-i', paths.clientKey, '-o', `UserKnownHostsFile=${paths.knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
        '-o', 'LogLevel=ERROR', `root@${r.address}`, ...(a.cmd ?? []), ...((a['--'] as string[] | undefined) ?? [])], { stdio: 'inherit' });
      process.exitCode = res.status ?? 1;
    })
    .demandCommand(1, 'lab needs a subcommand: up, down, list, ssh or snapshot');
}
