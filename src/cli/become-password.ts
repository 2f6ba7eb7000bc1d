// --ask-become-pass: sudo's password, asked once per run as Ansible's -K does. On a terminal it is typed
// without echo; otherwise it is the first line of stdin (a CI job pipes it). It becomes a Secret at once
// and reaches the controller only as sudo's stdin (src/transport/become.ts).
import { Secret } from '../secret.ts';
import { UsageError } from './usage-error.ts';

export async function askBecomePassword(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<Secret> {
  const { read } = await import('read');
  // read() never settles when its input ends before a line: say so instead of exiting without a word.
  let onEnd: () => void = () => {};
  const ended = new Promise<never>((_, reject) => {
    onEnd = () => reject(new UsageError('--ask-become-pass: stdin ended before a password line (type it on a terminal, or pipe it in)'));
    input.once('end', onEnd);
  });
  let typed: string;
  try {
    typed = await Promise.race([read({ prompt: 'BECOME password:', silent: true, input, output }), ended]);
  } catch (e) {
    if ((e as Error).message === 'canceled') throw new UsageError('--ask-become-pass: cancelled at the prompt');
    throw e;
  } finally {
    input.removeListener('end', onEnd);
  }
  if (!output.isTTY) output.write('\n');
  if (!typed) throw new UsageError('--ask-become-pass: the password is empty');
  return new Secret(typed);
}
