// A role for a user on a project, granted when missing (revoked when the playbook wants it absent).
// Read by name: the user may be made earlier in the same run, then the ids are read again before apply.
import type { Diff, Ensure, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import type { Provider } from '../engine/providers.ts';
import type { KeystoneSession } from '../providers/keystone.ts';
import { KeystonePrecondition } from './keystone-precondition.ts';

export interface RoleAssignmentSpec {
  user: string;
  domainId: string;
  project: string;
  role: string;
  ensure?: Ensure;
  keystone: Provider<KeystoneSession>;
}

export interface KsRoleState {
  userId?: string;
  projectId?: string;
  roleId?: string;
  granted: boolean;
}

type Ids = { projectId?: string; userId?: string; roleId?: string };
export type RoleAssignmentOp = ({ op: 'grant' } & Ids) | ({ op: 'revoke' } & Required<Ids>);

const label = (d: Pick<RoleAssignmentSpec, 'user' | 'project' | 'role'>) => `${d.role} for ${d.user} on project ${d.project}`;

export function roleAssignmentDiff(s: KsRoleState, desired: Pick<RoleAssignmentSpec, 'user' | 'project' | 'role' | 'ensure'>): Diff<RoleAssignmentOp> {
  const ids = { projectId: s.projectId, userId: s.userId, roleId: s.roleId };
  if (desired.ensure === 'absent') {
    if (!s.granted) return noChange(`${label(desired)} is not granted`);
    return { action: 'delete', changes: [{ field: 'role', from: label(desired), to: '(revoked)' }], why: `${label(desired)} is granted`, ops: [{ op: 'revoke', ...(ids as Required<Ids>) }] };
  }
  if (s.granted) return noChange(`${label(desired)} is granted`);
  return { action: 'create', changes: [{ field: 'role', to: label(desired) }], why: s.userId ? `${label(desired)} is not granted` : 'the user is made first', ops: [{ op: 'grant', ...ids }] };
}

export function keystoneRoleAssignment(spec: RoleAssignmentSpec): Resource<KsRoleState, RoleAssignmentOp> {
  return {
    kind: 'keystone-role-assignment',
    id: `${spec.user}/${spec.project}/${spec.role}`,
    async read(host) {
      const session = await host.use(spec.keystone);
      const ks = await session.reader();
      const [users, projects, roles] = await Promise.all([
        ks.findUser(spec.user, spec.domainId),
        ks.findProject(spec.project, spec.domainId),
        ks.findRole(spec.role),
      ]);
      const userId = users[0]?.id;
      const projectId = projects[0]?.id;
      const roleId = roles[0]?.id;
      const granted = !!(userId && projectId && roleId) && ((await session.knownGrant(projectId, userId, roleId)) ?? (await ks.hasProjectRole(projectId, userId, roleId)));
      return { userId, projectId, roleId, granted };
    },
    diff: (current) => roleAssignmentDiff(current, spec),
    async apply(host, ops) {
      const ks = await (await host.use(spec.keystone)).admin();
      for (const o of ops) {
        if (o.op === 'revoke') {
          await ks.revokeProjectRole(o.projectId, o.userId, o.roleId);
          continue;
        }
        if (!o.projectId) throw new KeystonePrecondition(`project ${spec.project} does not exist in Keystone`, `create it (openstack project create --domain default ${spec.project}), as the install guide's identity part does`);
        if (!o.roleId) throw new KeystonePrecondition(`role ${spec.role} does not exist in Keystone`, 'bootstrap Keystone first (keystone-manage bootstrap makes the admin role)');
        if (!o.userId) throw new KeystonePrecondition(`user ${spec.user} does not exist in Keystone`, 'run again: the user resource comes first');
        await ks.grantProjectRole(o.projectId, o.userId, o.roleId);
      }
    },
  };
}
