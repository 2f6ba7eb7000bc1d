// The Keystone client against a real lab controller (Keystone bootstrapped, admin-openrc in /root/openstack),
// over one SSH connection, the way a run uses it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { connect, type Transport } from '../../src/transport/ssh.ts';
import { paths } from '../../src/lab/paths.ts';
import { Secret } from '../../src/secret.ts';
import { keystoneLogin, checkKeystonePassword, adminCredentialsFromOpenrc, KeystoneError } from '../../src/clients/keystone.ts';
import type { AdminCredentials, KeystoneClient } from '../../src/clients/keystone-api.ts';
import { labUp, labDown } from './helpers.ts';

const LAB = 't-ks';
const suffix = crypto.randomBytes(3).toString('hex');

let t: Transport;
let creds: AdminCredentials;
let ks: KeystoneClient;
let adminPw: string;

before(async () => {
  await labDown(LAB); // a lab left over by an interrupted run
  const [lab] = await labUp([LAB]);
  t = await connect({ host: lab!.address, identity: paths.clientKey, knownHostsFile: paths.knownHosts });
  const rc = await t.exec(['cat', '/root/openstack/admin-openrc.sh']);
  assert.equal(rc.code, 0, rc.stderr);
  creds = adminCredentialsFromOpenrc(rc.stdout);
  adminPw = creds.password.reveal();
});

after(async () => {
  t?.close();
  await labDown(LAB);
});

/** Asserts err is a KeystoneError whose message matches re and holds none of the given secrets. */
function keystoneError(re: RegExp, secrets: string[] = []) {
  return (e: unknown) => {
    assert.ok(e instanceof KeystoneError, `a KeystoneError, got ${String(e)}`);
    assert.match(e.message, re);
    for (const s of [adminPw, ...secrets]) assert.ok(!(e.message + e.hint).includes(s), 'a secret in the error');
    if (ks) assert.ok(!(e.message + e.hint).includes(ks.token()), 'the token in the error');
    return true;
  };
}

describe('keystone client on a lab controller', () => {
  test('admin login from admin-openrc.sh read over SSH: one token, one request', async () => {
    assert.equal(creds.authUrl, 'http://controller:5000/v3');
    assert.equal(String(creds.password), '[secret]');
    ks = await keystoneLogin(t, creds);
    assert.equal(ks.requests, 1);
    assert.equal(ks.authUrl, 'http://controller:5000/v3');
    assert.match(ks.token(), /^gAAAAA/, 'a fernet token');
  });

  test('project, role and domain lookups by name', async () => {
    const [service, ...more] = await ks.findProject('service', 'default');
    assert.equal(more.length, 0);
    assert.equal(service?.name, 'service');
    assert.deepEqual(await ks.findProject('no-such-project', 'default'), []);
    const roles = await ks.findRole('admin');
    assert.equal(roles.length, 1);
    assert.equal(roles[0]?.name, 'admin');
  });

  test('user: create, find, checkPassword true/false, change password, duplicate refused without leaking it', async () => {
    const name = `glance-${suffix}`;
    const pw = new Secret(`pw-${crypto.randomBytes(8).toString('hex')}`);
    assert.deepEqual(await ks.findUser(name, 'default'), []);
    const u = await ks.createUser({ name, domain_id: 'default', password: pw, enabled: true });
    assert.equal(u.name, name);
    assert.equal(u.enabled, true);
    assert.deepEqual(await ks.findUser(name, 'default'), [u]);

    assert.equal(await ks.checkPassword(name, 'default', pw), true);
    assert.equal(await ks.checkPassword(name, 'default', new Secret('not-the-password')), false);
    assert.equal(await ks.checkPassword(`nobody-${suffix}`, 'default', pw), false, 'an unknown user is a 401 too');
    // Without any admin token, so a run can issue it alongside the admin login.
    const [alone, admin2] = await Promise.all([checkKeystonePassword(t, creds.authUrl, name, 'default', pw), keystoneLogin(t, creds)]);
    assert.equal(alone, true);
    assert.ok(admin2.token());

    const pw2 = new Secret(`pw2-${crypto.randomBytes(8).toString('hex')}`);
    await ks.setUserPassword(u.id, pw2);
    assert.equal(await ks.checkPassword(name, 'default', pw2), true);
    assert.equal(await ks.checkPassword(name, 'default', pw), false);

    await assert.rejects(
      ks.createUser({ name, domain_id: 'default', password: pw2, enabled: true }),
      keystoneError(new RegExp(`^Keystone: POST /users answered 409: Conflict .*${name}`), [pw2.reveal()]),
    );
    await ks.deleteUser(u.id);
    assert.deepEqual(await ks.findUser(name, 'default'), []);
    await ks.deleteUser(u.id); // already gone: fine
  });

  test('Keystone name filters ignore case (MariaDB collation): callers must compare names themselves', async () => {
    const name = `Mixed-${suffix}`;
    const u = await ks.createUser({ name, domain_id: 'default', password: new Secret('x-123456'), enabled: true });
    try {
      assert.deepEqual((await ks.findUser(name.toLowerCase(), 'default')).map((x) => x.name), [name]);
    } finally {
      await ks.deleteUser(u.id);
    }
  });

  test('role assignment: HEAD says no, PUT grants, HEAD says yes, a second PUT is harmless', async () => {
    const u = await ks.createUser({ name: `role-${suffix}`, domain_id: 'default', password: new Secret('x-123456'), enabled: true });
    try {
      const [project] = await ks.findProject('service', 'default');
      const [role] = await ks.findRole('admin');
      assert.equal(await ks.hasProjectRole(project!.id, u.id, role!.id), false);
      await ks.grantProjectRole(project!.id, u.id, role!.id);
      assert.equal(await ks.hasProjectRole(project!.id, u.id, role!.id), true);
      await ks.grantProjectRole(project!.id, u.id, role!.id);
      assert.equal(await ks.hasProjectRole(project!.id, u.id, role!.id), true);
    } finally {
      await ks.deleteUser(u.id);
    }
  });

  test('service and endpoints: create, list by type / service, patch, delete', async () => {
    const type = `image-${suffix}`;
    assert.deepEqual(await ks.listServices(type), []);
    const s = await ks.createService({ name: 'glance', type, description: 'OpenStack Image', enabled: true });
    assert.deepEqual(await ks.listServices(type), [s]);
    await ks.updateService(s.id, { description: 'OpenStack Image service' });
    assert.equal((await ks.listServices(type))[0]?.description, 'OpenStack Image service');

    for (const iface of ['public', 'internal', 'admin'] as const) {
      const e = await ks.createEndpoint({ service_id: s.id, interface: iface, url: 'http://controller:9292', region_id: 'RegionOne', enabled: true });
      assert.equal(e.region_id, 'RegionOne');
      assert.equal(e.interface, iface);
    }
    const eps = await ks.listEndpoints(s.id);
    assert.deepEqual(eps.map((e) => e.interface).sort(), ['admin', 'internal', 'public']);
    assert.ok(eps.every((e) => e.service_id === s.id && e.url === 'http://controller:9292' && e.region === 'RegionOne'));

    const pub = eps.find((e) => e.interface === 'public')!;
    await ks.updateEndpoint(pub.id, { url: 'http://controller:9293' });
    assert.equal((await ks.listEndpoints(s.id)).find((e) => e.id === pub.id)?.url, 'http://controller:9293');

    // Keystone calls an unknown region a 400 (not a 404); the error carries its words.
    await assert.rejects(
      ks.createEndpoint({ service_id: s.id, interface: 'public', url: 'http://x', region_id: 'NoSuchRegion', enabled: true }),
      keystoneError(/^Keystone: POST \/endpoints answered 400: Expecting to find endpoint region_id in region table/),
    );
    // But the region check ignores case (MariaDB collation) and keeps the spelling given: `regionOne` is
    // accepted, and a client matching region names exactly (keystonemiddleware) then finds no endpoint.
    const odd = await ks.createEndpoint({ service_id: s.id, interface: 'public', url: 'http://x', region_id: 'regionOne', enabled: true });
    assert.equal((await ks.listEndpoints(s.id)).find((e) => e.id === odd.id)?.region_id, 'regionOne');
    await ks.deleteEndpoint(odd.id);

    for (const e of eps) await ks.deleteEndpoint(e.id);
    assert.deepEqual(await ks.listEndpoints(s.id), []);
    await ks.deleteService(s.id);
    assert.deepEqual(await ks.listServices(type), []);
    await ks.deleteService(s.id); // already gone: fine
  });

  test('the request counter counts every HTTP request', async () => {
    const before = ks.requests;
    await ks.findRole('member');
    await ks.checkPassword('admin', 'default', creds.password);
    assert.equal(ks.requests, before + 2);
  });

  test('wrong admin password: an error naming admin-openrc.sh / OS_*, without the password', async () => {
    const wrong = `${adminPw}-wrong`;
    await assert.rejects(
      keystoneLogin(t, { ...creds, password: new Secret(wrong) }),
      keystoneError(/refused the admin credentials \(user admin@Default, project admin@Default\)/, [wrong]),
    );
    await assert.rejects(keystoneLogin(t, { ...creds, password: new Secret(wrong) }), (e: unknown) => e instanceof KeystoneError && /admin-openrc\.sh/.test(e.hint) && /OS_\*/.test(e.hint));
  });

  test('nothing listening: "Keystone does not answer at <url>; is it running on the controller?"', async () => {
    await assert.rejects(
      keystoneLogin(t, { ...creds, authUrl: 'http://127.0.0.1:5999/v3' }),
      keystoneError(/^Keystone does not answer at http:\/\/127\.0\.0\.1:5999\/v3; is it running on the controller\?$/),
    );
  });
});
