// Where the cloud admin's credentials come from: OS_* in the operator's environment when set, else the
// controller's own ~/openstack/admin-openrc.sh (the install guide's file), read with the facts.
import type { Provider } from '../engine/providers.ts';
import { defineFact } from '../engine/facts.ts';
import { EngineError } from '../engine/errors.ts';
import { adminCredentialsFromEnv, adminCredentialsFromOpenrc } from '../clients/keystone.ts';
import type { AdminCredentials } from '../clients/keystone-api.ts';

export const OPENRC = '~/openstack/admin-openrc.sh';

/** The controller's admin-openrc.sh, or undefined. */
export const openrcFact = defineFact('openrc', 'cat "$HOME/openstack/admin-openrc.sh"', (raw) => raw.trim() || undefined);

export interface CredentialsWithSource extends AdminCredentials {
  /** Where they were found, for the report. */
  source: string;
}

export function adminCredentials(env: Readonly<Record<string, string | undefined>>): Provider<CredentialsWithSource> {
  return {
    key: 'admin-credentials',
    async open(host) {
      if (env.OS_AUTH_URL && env.OS_PASSWORD) return { ...adminCredentialsFromEnv(env), source: 'the OS_* environment' };
      const openrc = await host.fact(openrcFact);
      if (!openrc) {
        // ~ is the home of whoever runs the commands: a sudoer's own, unless --become makes it root's.
        const whose = host.t.user === 'root' ? '' : ` (~ is ${host.t.user}'s home; with --become it is root's, where the guide puts the file)`;
        throw new EngineError('admin credentials', `no ${OPENRC} on the controller and no OS_AUTH_URL/OS_PASSWORD in the environment`,
          `create ${OPENRC} on the controller (the install guide's identity part does)${whose}, or export the OS_* variables here`);
      }
      return { ...adminCredentialsFromOpenrc(openrc), source: `${OPENRC} on the controller` };
    },
  };
}
