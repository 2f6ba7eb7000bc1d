// Colour on a terminal only. FORCE_COLOR wins (as in Node itself: `0` or `false` turns colour off, any
// other value on), then NO_COLOR (no-color.org: present and not empty means none), then TERM=dumb;
// otherwise colour exactly when the stream is a terminal. Each stream is asked for itself: with --json
// the report lines go to stderr, which may be a terminal while stdout is a pipe.
import pc from 'picocolors';
import { plain, type Paint } from '../engine/report.ts';

export function wantsColour(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.trim().toLowerCase());
  if (env.NO_COLOR) return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export function paintFor(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>> = process.env): Paint {
  if (!wantsColour(stream, env)) return plain;
  const c = pc.createColors(true);
  return { green: c.green, yellow: c.yellow, red: c.red, cyan: c.cyan, magenta: c.magenta, dim: c.dim, bold: c.bold };
}
