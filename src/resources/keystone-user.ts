// A Keystone user, found by name in its domain: its password checked by asking for a token with it,
// set only when Keystone refuses that token; enabled. Deleted when the playbook wants it absent.
import type { Change, Diff, Ensure, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import type { Provider } from '../engine/providers.ts';
import type { Secret } from '../secret.ts';
import type { KsUser } from '../clients/keystone-api.ts';
import type { KeystoneSession } from '../providers/keystone.ts';

export interface KeystoneUserSpec {
  name: string;
  domainId: string;
  /** Required unless the account is to go. */
  password?: Secret;
  ensure?: Ensure;
  keystone: Provider<KeystoneSession>;
}

export interface KsUserState {
  user?: KsUser;
  duplicates: number;
  passwordWorks?: boolean;
}

export type KeystoneUserOp =
  | { op: 'create-user'; name: string; domainId: string; password: Secret }
  | { op: 'set-password'; id: string; password: Secret }
  | { op: 'enable-user'; id: string }
  | { op: 'delete-user'; id: string };

export function keystoneUserDiff(s: KsUserState, desired: Pick<KeystoneUserSpec, 'name' | 'domainId' | 'password' | 'ensure'>): Diff<KeystoneUserOp> {
  const { name } = desired;
  if (desired.ensure === 'absent') {
    if (!s.user) return noChange(`keystone user ${name} does not exist`);
    return { action: 'delete', changes: [{ field: 'user', from: name, to: '(deleted with its role assignments)' }], why: `keystone user ${name} exists`, ops: [{ op: 'delete-user', id: s.user.id }] };
  }
  const password = needPassword(desired);
  if (!s.user) {
    return {
      action: 'create', changes: [{ field: 'user', to: name }, { field: 'password', to: '***' }], why: `keystone user ${name} does not exist`,
      ops: [{ op: 'create-user', name, domainId: desired.domainId, password }],
    };
  }
  const changes: Change[] = [];
  const ops: KeystoneUserOp[] = [];
  if (s.passwordWorks === false) {
    changes.push({ field: 'password', from: '(no token with it)', to: '***' });
    ops.push({ op: 'set-password', id: s.user.id, password });
  }
  if (s.user.enabled === false) {
    changes.push({ field: 'enabled', from: 'false', to: 'true' });
    ops.push({ op: 'enable-user', id: s.user.id });
  }
  if (!changes.length) return noChange(`keystone user ${name} exists and gets a token with its password`);
  return { action: 'update', changes, why: s.passwordWorks === false ? 'its password gets no token' : 'it is disabled', ops };
}

function needPassword(spec: Pick<KeystoneUserSpec, 'name' | 'password'>): Secret {
  if (!spec.password) throw new Error(`keystone-user ${spec.name}: a password is needed unless the user is to go`);
  return spec.password;
}

export function keystoneUser(spec: KeystoneUserSpec): Resource<KsUserState, KeystoneUserOp> {
  if (spec.ensure !== 'absent') needPassword(spec);
  return {
    kind: 'keystone-user',
    id: spec.name,
    async read(host) {
      const ks = await host.use(spec.keystone);
      if (spec.ensure === 'absent') {
        const users = await (await ks.reader()).findUser(spec.name, spec.domainId);
        return users[0] ? { user: users[0], duplicates: users.length - 1 } : { duplicates: 0 };
      }
      // The user's own token, kept from the last run and still valid or just issued, answers the lookup too
      // (Keystone keeps one user per name in a domain): on a converged run, no request of its own.
      const known = await ks.knownUser(spec.name, spec.domainId);
      if (known) return { user: known, duplicates: 0, passwordWorks: true };
      // Both are a Keystone password hash (the slow part of a run with drift): ask at the same time.
      const [users, works] = await Promise.all([
        ks.reader().then((c) => c.findUser(spec.name, spec.domainId)),
        ks.passwordWorks(spec.name, spec.domainId, needPassword(spec)),
      ]);
      const user = users[0];
      if (!user) return { duplicates: 0 };
      return { user, duplicates: users.length - 1, passwordWorks: works };
    },
    diff: (current) => keystoneUserDiff(current, spec),
    async apply(host, ops) {
      const ks = await (await host.use(spec.keystone)).admin();
      for (const o of ops) {
        if (o.op === 'create-user') await ks.createUser({ name: o.name, domain_id: o.domainId, password: o.password, enabled: true });
        else if (o.op === 'set-password') await ks.setUserPassword(o.id, o.password);
        else if (o.op === 'enable-user') await ks.enableUser(o.id);
        else await ks.deleteUser(o.id);
      }
    },
  };
}
