// What the Juno install guide's identity chapter leaves in keystone before the Glance chapter starts:
// the default domain of the database migrations, the admin/demo/service tenants, the admin and demo
// users, the admin role (and _member_, which v2.0 user-create --tenant makes), the identity service and
// its endpoint in regionOne. Rows are written as keystone 2014.2's v2.0 calls write them (the guide uses
// the v2.0 `keystone` CLI); see ../../../../shared/juno-reference/install-guide-juno.md for the commands.
import { createLegacyEndpoint } from './v2-admin.ts';
import { hashPassword, newId, type Store } from './store.ts';

export interface Seeded {
  adminPassword: string;
  domainId: string;
  adminProjectId: string;
  serviceProjectId: string;
  adminUserId: string;
  adminRoleId: string;
  identityServiceId: string;
}

/** CONF.member_role_id / member_role_name defaults (keystone 2014.2 common/config.py). */
const MEMBER_ROLE = { id: '9fe2ff9ee4384b1894a90878d3e92bab', name: '_member_' };

export function seedJunoGuide(store: Store, adminPassword = 'ADMIN_PASS'): Seeded {
  // common/sql/migration_helpers.py get_default_domain
  store.domains.push({ id: 'default', name: 'Default', enabled: true, extra: { description: 'Owns users and tenants (i.e. projects) available on Identity API v2.' } });
  // keystone tenant-create --name X --description "X Tenant": assignment Tenant.create_project
  const tenant = (name: string, description: string) => {
    const p = { id: newId(), name, domain_id: 'default', description, enabled: true, extra: {} };
    store.projects.push(p);
    return p;
  };
  const admin = tenant('admin', 'Admin Tenant');
  const demo = tenant('demo', 'Demo Tenant');
  const service = tenant('service', 'Service Tenant');
  // keystone user-create --name X --pass P --email E [--tenant T]: identity User.create_user (v2.0);
  // python-keystoneclient sends email and tenantId (null when not given)
  const user = (name: string, password: string, tenantId: string | null) => {
    const u = { id: newId(), name, domain_id: 'default', password: hashPassword(password), enabled: true, default_project_id: tenantId, extra: { email: `${name}@example.com` } };
    store.users.push(u);
    return u;
  };
  const adminUser = user('admin', adminPassword, null);
  // keystone role-create --name admin; keystone user-role-add --user admin --tenant admin --role admin
  const adminRole = { id: newId(), name: 'admin', extra: {} };
  store.roles.push(adminRole);
  store.assignments.push({ type: 'UserProject', actor_id: adminUser.id, target_id: admin.id, role_id: adminRole.id, inherited: false });
  // keystone user-create --name demo --tenant demo …: add_user_to_project makes _member_ and grants it
  const demoUser = user('demo', 'DEMO_PASS', demo.id);
  store.roles.push({ ...MEMBER_ROLE, extra: {} });
  store.assignments.push({ type: 'UserProject', actor_id: demoUser.id, target_id: demo.id, role_id: MEMBER_ROLE.id, inherited: false });
  // keystone service-create --name keystone --type identity --description "OpenStack Identity"
  const identity = { id: newId(), type: 'identity', enabled: true, extra: { name: 'keystone', description: 'OpenStack Identity' } };
  store.services.push(identity);
  // keystone endpoint-create --service-id … --publicurl http://controller:5000/v2.0
  //   --internalurl http://controller:5000/v2.0 --adminurl http://controller:35357/v2.0 --region regionOne
  createLegacyEndpoint(store, { region: 'regionOne', service_id: identity.id, publicurl: 'http://controller:5000/v2.0', adminurl: 'http://controller:35357/v2.0', internalurl: 'http://controller:5000/v2.0' });
  return { adminPassword, domainId: 'default', adminProjectId: admin.id, serviceProjectId: service.id, adminUserId: adminUser.id, adminRoleId: adminRole.id, identityServiceId: identity.id };
}
