#!/usr/bin/env node
// install-glance's command line. Every command parses, calls the library, prints; exit codes:
// 0 ok/converged, 2 plan has changes, 1 failed, 64 usage error.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { labCommands } from './lab-commands.ts';
import { LabError } from '../lab/errors.ts';

export const EXIT = { ok: 0, failed: 1, changes: 2, usage: 64 } as const;

function fail(err: unknown): never {
  if (err instanceof LabError) {
    process.stderr.write(`error: ${err.message}\n  what to do: ${err.hint}\n`);
  } else {
    process.stderr.write(`error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  }
  process.exit(EXIT.failed);
}

const cli = yargs(hideBin(process.argv))
  .scriptName('install-glance')
  .parserConfiguration({ 'populate--': true })
  .command('lab', 'lab controllers built on this machine', labCommands)
  .demandCommand(1, 'name a command')
  .strict()
  .fail((msg, err, y) => {
    if (err) fail(err);
    process.stderr.write(`${y.help() && ''}usage error: ${msg}\nrun "install-glance --help" for the commands\n`);
    process.exit(EXIT.usage);
  });

try {
  await cli.parseAsync();
} catch (e) {
  fail(e);
}
