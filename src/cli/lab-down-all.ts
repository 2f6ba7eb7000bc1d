// `lab down --all` takes down every lab on the machine, other people's too: on a terminal it asks first
// (--yes skips the question); elsewhere (a script, CI) it acts only with --yes, so that a pipe or a cron
// job never removes every lab by accident.
import readline from 'node:readline/promises';
import { UsageError } from './usage-error.ts';

export type DownAllDecision = 'nothing' | 'go' | 'ask';

export function decideDownAll(labs: string[], opts: { yes: boolean; interactive: boolean }): DownAllDecision {
  if (labs.length === 0) return 'nothing';
  if (opts.yes) return 'go';
  if (opts.interactive) return 'ask';
  throw new UsageError(`lab down --all takes down every lab on this machine (${labs.length}: ${labs.join(', ')}) and asks first, `
    + 'but this is not a terminal; add --yes to take them all down, or name the labs: lab down NAME…');
}

/** The question on stderr, the answer from stdin: only y or yes goes ahead. */
export async function confirmDownAll(labs: string[], input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stderr): Promise<boolean> {
  const rl = readline.createInterface({ input, output });
  try {
    const answer = await rl.question(`take down all ${labs.length} lab${labs.length === 1 ? '' : 's'} on this machine (${labs.join(', ')})? [y/N] `);
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
