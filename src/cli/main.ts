#!/usr/bin/env node
// install-glance's command line. Every command parses, calls the library, prints; exit codes:
// 0 ok/converged, 2 plan has changes, 1 failed, 64 usage error.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { labCommands } from './lab-commands.ts';
import { runCommand, destroyCommand, EXIT } from './run-commands.ts';
import { UsageError } from './usage-error.ts';

function fail(err: unknown): never {
  if (err instanceof UsageError) {
    process.stderr.write(`usage error: ${err.message}\n`);
    process.exit(EXIT.usage);
  }
  const hint = (err as { hint?: string }).hint;
  if (hint) process.stderr.write(`error: ${(err as Error).message}\n  what to do: ${hint}\n`);
  else process.stderr.write(`error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(EXIT.failed);
}

const cli = yargs(hideBin(process.argv))
  .scriptName('install-glance')
  .wrap(Math.min(110, process.stdout.columns || 110))
  .parserConfiguration({ 'populate--': true })
  .command(runCommand('plan'))
  .command(runCommand('apply'))
  .command(runCommand('verify'))
  .command(destroyCommand)
  .command('lab', 'lab controllers built on this machine', labCommands)
  .demandCommand(1, 'name a command: plan, apply, verify, destroy or lab')
  .strict()
  .fail((msg, err) => {
    if (err) fail(err);
    process.stderr.write(`usage error: ${msg}\nrun "install-glance --help" for the commands\n`);
    process.exit(EXIT.usage);
  });

try {
  await cli.parseAsync();
} catch (e) {
  fail(e);
}
