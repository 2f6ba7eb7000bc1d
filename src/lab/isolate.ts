// How the snapshot builder runs a step's command: in a mount and pid namespace of its own, so whatever it
// mounts and starts goes when it ends, and bound to this process, so it ends when this process does,
// even on SIGKILL: setpriv's parent-death signal kills unshare, and unshare's --kill-child kills PID 1 of
// the namespace (and with it every process in it).
import type { ProcessPromise } from 'zx';

export function isolated(opts: { net?: boolean; procAt?: string } = {}): string[] {
  return ['setpriv', '--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--pid', '--fork', '--kill-child',
    ...(opts.net ? ['--net'] : []), '--propagation', 'private', ...(opts.procAt ? [`--mount-proc=${opts.procAt}`] : []), '--'];
}

const active = new Set<ProcessPromise>();

/** P, remembered until it ends, so an interrupted build can end it before removing what it wrote. */
export function tracked(p: ProcessPromise): ProcessPromise {
  active.add(p);
  p.finally(() => active.delete(p)).catch(() => {});
  return p;
}

/** Kills every tracked command (SIGKILL: their namespaces go with them) and waits until they are gone. */
export async function killTracked(): Promise<void> {
  const running = [...active];
  for (const p of running) p.child?.kill('SIGKILL');
  await Promise.allSettled(running);
}
