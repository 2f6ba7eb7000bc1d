// The one door to zx: local commands of the lab builder. zx's template quoting keeps names and paths
// from being read by a shell. Remote commands never come through here (they go over ssh2).
import { $ as zx, ProcessOutput } from 'zx';

export const sh = zx({ quiet: true, verbose: false });

/** A local command's failure, with what ran and what it said, for an error that names the step. */
export function describeFailure(err: unknown): string {
  if (err instanceof ProcessOutput) {
    const said = (err.stderr || err.stdout).trim().split('\n').slice(-8).join('\n');
    return `exit ${err.exitCode}${said ? `: ${said}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** True when `cmd` is on PATH. */
export async function have(cmd: string): Promise<boolean> {
  const r = await sh`command -v ${cmd}`.nothrow();
  return r.exitCode === 0;
}
