// apt's status lines (`pmstatus:pkg:percent:what`, on the status fd) as one line of progress: a bar that
// updates in place on a terminal, every 10 % in a log.
import { byLine } from './by-line.ts';

export function aptProgress(say: (line: string) => void, verb = 'apt'): (chunk: string) => void {
  let last = -1;
  return byLine((line) => {
    const m = /^(pm|dl)status:[^:]*:([\d.]+):(.*)$/.exec(line);
    if (!m) return;
    const pct = Math.floor(Number(m[2]));
    if (pct === last || (!process.stderr.isTTY && pct - last < 10)) return;
    last = pct;
    const width = 30;
    const fill = Math.round((pct / 100) * width);
    say(`${verb} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(pct).padStart(3)}% ${m[3]!.slice(0, 50)}`);
  });
}
