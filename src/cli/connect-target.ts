// How the command line reaches a target: the SSH transport, and through sudo when the target becomes
// (--become, or ansible_become in the inventory). Loaded with the engine, never for --help.
import { connect, type Transport } from '../transport/ssh.ts';
import { become } from '../transport/become.ts';
import type { Secret } from '../secret.ts';
import type { ResolvedTarget } from './targets.ts';

export function connectTarget(becomePassword?: Secret): (target: ResolvedTarget) => Promise<Transport> {
  return async (target) => {
    const t = await connect(target);
    if (!target.become) return t;
    try {
      return await become(t, { user: target.becomeUser, password: becomePassword });
    } catch (e) {
      t.close();
      throw e;
    }
  };
}
