// Lab addresses are machine-wide (veth names, iptables chains, the 10.213.N.0/24 nets) while lab records
// live under a state root: two roots building at once (a test with a state root of its own beside the
// others) would both see index N free until one of them creates its link. A claim file per index, in the
// machine-wide run directory, closes that window; a claim whose lab directory is gone is free again.
import fs from 'node:fs';
import path from 'node:path';
import { paths } from './paths.ts';

const claimsDir = () => path.join(path.dirname(paths.locks), 'addresses');
const claimFile = (index: number) => path.join(claimsDir(), String(index));

/** The lab directory that claims INDEX, if that lab still exists. */
function claimant(index: number): string | undefined {
  let dir: string;
  try {
    dir = fs.readFileSync(claimFile(index), 'utf8').trim();
  } catch {
    return undefined;
  }
  return dir && fs.existsSync(dir) ? dir : undefined;
}

/** Is INDEX claimed by a lab other than the one in LABDIR? (Call under the machine-wide 'labs' lock.) */
export function claimedElsewhere(index: number, labDir: string): boolean {
  const owner = claimant(index);
  return owner !== undefined && owner !== labDir;
}

export function claim(index: number, labDir: string): void {
  fs.mkdirSync(claimsDir(), { recursive: true, mode: 0o755 });
  fs.writeFileSync(claimFile(index), labDir + '\n');
}

/** Lets INDEX go, if LABDIR is the one that holds it. */
export function release(index: number, labDir: string): void {
  try {
    if (fs.readFileSync(claimFile(index), 'utf8').trim() === labDir) fs.rmSync(claimFile(index), { force: true });
  } catch { /* no claim */ }
}
