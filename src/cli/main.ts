#!/usr/bin/env node
// install-glance's command line. Every command parses, calls the library, prints; exit codes:
// 0 ok/converged, 2 plan has changes, 1 failed, 64 usage error.
//
// Start-up is part of every run, so a run loads only what its command uses: `--version` alone answers
// before anything else loads; otherwise only the named command's module is imported (all of them for the
// full --help, shell completion or a usage error), and those modules import their heavy parts (the engine
// with ssh2 and mysql2, the lab builder with zx) inside their handlers. scripts/build.mjs keeps each lazily
// imported module in a chunk of its own, so this holds for the bundle too (bench/startup.ts measures it).
import type { Argv } from 'yargs';
import { versionLine } from './build-info.ts';
import { EXIT } from './exit-codes.ts';
import { UsageError } from './usage-error.ts';
import { explainUsage, helpPointer } from './usage-hints.ts';
import { completingFileValue } from './file-completion.ts';

function fail(err: unknown): never {
  // yargs's own errors (a value a `coerce` refused, a missing argument) are usage errors too.
  if (err instanceof UsageError || (err as Error | undefined)?.name === 'YError') {
    process.stderr.write(`usage error: ${(err as Error).message}\n`);
    process.exit(EXIT.usage);
  }
  const hint = (err as { hint?: string }).hint;
  if (hint) process.stderr.write(`error: ${(err as Error).message}\n  what to do: ${hint}\n`);
  else process.stderr.write(`error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(EXIT.failed);
}

/** Each top-level command, in the order --help lists them: how to import it and add it to the parser. */
const commands: Record<string, () => Promise<(y: Argv) => Argv>> = {
  plan: async () => { const { runCommand } = await import('./run-commands.ts'); return (y) => y.command(runCommand('plan')); },
  apply: async () => { const { runCommand } = await import('./run-commands.ts'); return (y) => y.command(runCommand('apply')); },
  verify: async () => { const { runCommand } = await import('./run-commands.ts'); return (y) => y.command(runCommand('verify')); },
  destroy: async () => { const { destroyCommand } = await import('./run-commands.ts'); return (y) => y.command(destroyCommand); },
  lab: async () => { const { labCommands } = await import('./lab-commands.ts'); return (y) => y.command('lab', 'lab controllers built on this machine', labCommands); },
};

async function main(args: string[]): Promise<void> {
  if (args.length === 1 && args[0] === '--version') {
    process.stdout.write(versionLine() + '\n');
    return;
  }
  const { default: yargs } = await import('yargs');
  const { Parser } = await import('yargs/helpers');
  // The command as yargs will see it (options may come first); anything else (the full --help, a
  // completion request, a typo) needs every command.
  const named = String(Parser(args)._[0] ?? '');
  const wanted = Object.hasOwn(commands, named) ? [commands[named]!] : Object.values(commands);
  let cli = yargs(args)
    .scriptName('install-glance')
    // Messages in one language, so that a usage error can be explained (did you mean …?) whatever LANG says.
    .locale('en')
    .version(versionLine())
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 110))
    // boolean-negation is yargs' default; said here so that completion offers --no-wait and --no-rollback too.
    .parserConfiguration({ 'populate--': true, 'boolean-negation': true });
  for (const add of await Promise.all(wanted.map((load) => load()))) cli = add(cli);
  const parser = cli
    .completion('completion', 'print a bash or zsh completion script (add it to ~/.bashrc or ~/.zshrc)', (_current: string, _argv: unknown, defaultCompletion: () => void, done: (completions: string[]) => void) => {
      if (completingFileValue(args)) done([]);
      else defaultCompletion();
    })
    .epilog('Exit codes: 0 done or nothing to do, 2 a plan has changes, 1 failed, 64 usage error.\n"install-glance COMMAND -h" shows its options and two examples.')
    .demandCommand(1, 'name a command: plan, apply, verify, destroy or lab')
    .strict()
    .fail((msg, err) => {
      // yargs's own errors (a value a `coerce` refused, a flag without its value) are usage errors.
      if (err && err.name !== 'YError') fail(err);
      msg ||= err?.message ?? '';
      process.stderr.write(`usage error: ${explainUsage(msg, args, parser)}\n${helpPointer(parser)}\n`);
      process.exit(EXIT.usage);
    });
  await parser.parseAsync();
}

try {
  await main(process.argv.slice(2));
} catch (e) {
  fail(e);
}
