// Connections started as soon as the targets are known, before the engine and the playbook load: the SSH
// handshake is a wait on the network, and loading them is work on this process's one thread, so the two
// overlap (~60 ms of a converged re-apply's second). Only the hosts the pool starts with (its first
// `forks`, in the targets' order) connect early; a connection nobody took is closed.
import type { Transport } from '../transport/ssh.ts';

export interface EarlyConnections<T> {
  /** The connection started early for this target, once; any other target connects now. */
  connect(target: T): Promise<Transport>;
  /** Closes the connections no run took (the run failed before it reached them). */
  closeUnused(): void;
}

export function earlyConnections<T>(targets: readonly T[], first: number, connect: (target: T) => Promise<Transport>): EarlyConnections<T> {
  const started = new Map<T, Promise<Transport>>();
  for (const target of targets.slice(0, Math.max(0, first))) {
    const p = connect(target);
    // Its failure is the run's to report, when the run takes it.
    p.catch(() => {});
    started.set(target, p);
  }
  return {
    connect(target) {
      const p = started.get(target);
      if (!p) return connect(target);
      started.delete(target);
      return p;
    },
    closeUnused() {
      for (const p of started.values()) p.then((t) => t.close(), () => {});
      started.clear();
    },
  };
}
