// A key's passphrase, asked on the terminal as ssh does: the prompt on stderr, the typing not echoed,
// one prompt at a time (hosts connect side by side). Never printed, never kept beyond the key it opens.

export class PromptCancelled extends Error {}

/** Can we ask at all: stdin is a terminal we can put in raw mode. */
export function canAsk(input: NodeJS.ReadStream = process.stdin): boolean {
  return input.isTTY === true && typeof input.setRawMode === 'function';
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs fn when no other prompt is on the terminal. */
export function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

/** Reads one line from a TTY without echo. Ctrl-C or Ctrl-D on an empty line cancel. */
export function askHidden(prompt: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WritableStream = process.stderr): Promise<string> {
  return new Promise((resolve, reject) => {
    const wasRaw = input.isRaw;
    let typed = '';
    // Echo off before the prompt shows: whoever reads the prompt may type at once, and a process
    // preempted between the two would have its first keys echoed by the terminal.
    input.setRawMode(true);
    input.setEncoding('utf8');
    output.write(prompt);
    const done = (err?: Error) => {
      input.removeListener('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new PromptCancelled('cancelled at the passphrase prompt (Ctrl-C)'));
        if (ch === '\u0004') {
          if (!typed) return done(new PromptCancelled('no passphrase given (Ctrl-D)'));
          continue;
        }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (ch === '\u0015') typed = '';
        else if (ch >= ' ') typed += ch;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}
