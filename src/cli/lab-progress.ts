// The lab's progress on stderr: on a terminal, a pending line (a build step under way) stays on screen
// until the line that completes it replaces it in place; in a log, only completed lines are written, so
// each build step is one line with its time.
import type { Progress } from '../lab/snapshot.ts';

export interface Out { write(text: string): unknown; isTTY?: boolean }

export function progressWriter(out: Out): Progress {
  let open = false;
  return (line, opts) => {
    const pending = !!opts?.pending;
    if (out.isTTY) {
      out.write(`${open ? '\r\x1b[K' : ''}${line}${pending ? '' : '\n'}`);
      open = pending;
    } else if (!pending) {
      out.write(`${line}\n`);
    }
  };
}
