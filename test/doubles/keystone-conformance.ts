// The Keystone client's conformance suite: every KeystoneClient method, checkKeystonePassword and
// keystoneLogin, run against one Keystone: the keystone 2014.2 double (test/unit) or a real one on a lab
// (test/lab). What the releases answer alike is asserted alike; where they differ, the target says what
// it answers (ConformanceTarget.expect), so a call that passes on both is proven for both.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { Transport } from '../../src/transport/ssh.ts';
import { Secret } from '../../src/secret.ts';
import { keystoneLogin, checkKeystonePassword, KeystoneError } from '../../src/clients/keystone.ts';
import type { AdminCredentials, CatalogWrites, KeystoneClient } from '../../src/clients/keystone-api.ts';

export interface ConformanceTarget {
  name: string;
  transport: () => Transport;
  /** The admin's credentials as the controller's openrc gives them. */
  creds: () => AdminCredentials;
  expect: {
    /** ks.authUrl after login. */
    authUrl: string;
    catalogWrites: CatalogWrites;
    /** The token's shape: UUID (Juno's uuid provider) or fernet. */
    token: RegExp;
    /** The region the identity endpoints live in (the one endpoints must share). */
    region: string;
    /** Whether a v3 PATCH may set url http://controller:9293 (keystone 2014.2's URL check refuses dotless hosts). */
    v3UrlPatch: boolean;
    /** An address nothing listens on, as seen from the controller. */
    deadAuthUrl: string;
  };
}

export function keystoneConformance(target: ConformanceTarget): void {
  const suffix = crypto.randomBytes(3).toString('hex');
  let t: Transport;
  let creds: AdminCredentials;
  let ks: KeystoneClient;

  /** Asserts err is a KeystoneError whose message matches re and holds none of the secrets (nor the token). */
  const keystoneError = (re: RegExp, secrets: string[] = []) => (e: unknown) => {
    assert.ok(e instanceof KeystoneError, `a KeystoneError, got ${String(e)}`);
    assert.match(e.message, re);
    for (const s of [creds.password.reveal(), ...secrets]) assert.ok(!(e.message + e.hint).includes(s), 'a secret in the error');
    if (ks) assert.ok(!(e.message + e.hint).includes(ks.token()), 'the token in the error');
    return true;
  };

  describe(`Keystone client conformance: ${target.name}`, () => {
    before(() => {
      t = target.transport();
      creds = target.creds();
    });

    test('keystoneLogin: one request, a token, the v3 base, how endpoints will be written', async () => {
      ks = await keystoneLogin(t, creds);
      assert.equal(ks.requests, 1);
      assert.match(ks.token(), target.expect.token);
      assert.equal(ks.authUrl, target.expect.authUrl);
      assert.equal(ks.catalogWrites, target.expect.catalogWrites);
    });

    test('findProject, findRole: by name, [] when absent', async () => {
      const [service, ...more] = await ks.findProject('service', 'default');
      assert.equal(more.length, 0);
      assert.equal(service?.name, 'service');
      assert.equal(service?.domain_id, 'default');
      assert.deepEqual(await ks.findProject(`no-such-${suffix}`, 'default'), []);
      const roles = await ks.findRole('admin');
      assert.deepEqual(roles.map((r) => r.name), ['admin']);
      assert.deepEqual(await ks.findRole(`no-such-${suffix}`), []);
    });

    test('users: create, find, checkPassword, setUserPassword, enableUser, duplicate 409, deleteUser twice', async () => {
      const name = `glance-${suffix}`;
      const pw = new Secret(`pw-${crypto.randomBytes(8).toString('hex')}`);
      assert.deepEqual(await ks.findUser(name, 'default'), []);
      const u = await ks.createUser({ name, domain_id: 'default', password: pw, enabled: true });
      assert.deepEqual(u, { id: u.id, name, domain_id: 'default', enabled: true });
      assert.deepEqual(await ks.findUser(name, 'default'), [u]);

      assert.equal(await ks.checkPassword(name, 'default', pw), true);
      assert.equal(await ks.checkPassword(name, 'default', new Secret('not-the-password')), false, 'a wrong password is a 401');
      assert.equal(await ks.checkPassword(`nobody-${suffix}`, 'default', pw), false, 'an unknown user is a 401 too');
      const [alone] = await Promise.all([checkKeystonePassword(t, creds.authUrl, name, 'default', pw), ks.findRole('admin')]);
      assert.equal(alone, true, 'checkKeystonePassword needs no admin token and takes the openrc\'s auth URL as it is');

      const pw2 = new Secret(`pw2-${crypto.randomBytes(8).toString('hex')}`);
      await ks.setUserPassword(u.id, pw2);
      assert.equal(await ks.checkPassword(name, 'default', pw2), true);
      assert.equal(await ks.checkPassword(name, 'default', pw), false);
      await ks.enableUser(u.id);
      assert.equal((await ks.findUser(name, 'default'))[0]?.enabled, true);

      await assert.rejects(
        ks.createUser({ name, domain_id: 'default', password: pw2, enabled: true }),
        // 2014.2: "… store user - Duplicate Entry"; today: "… store user - Duplicate entry found with name …"
        keystoneError(/^Keystone: POST \/users answered 409: Conflict occurred attempting to store user - Duplicate [Ee]ntry/, [pw2.reveal()]),
      );
      await ks.deleteUser(u.id);
      assert.deepEqual(await ks.findUser(name, 'default'), []);
      await ks.deleteUser(u.id); // 404: already gone, fine
    });

    test('name filters compare without case (MySQL/MariaDB collation): callers compare names themselves', async () => {
      const name = `Mixed-${suffix}`;
      const u = await ks.createUser({ name, domain_id: 'default', password: new Secret('x-123456'), enabled: true });
      try {
        assert.deepEqual((await ks.findUser(name.toLowerCase(), 'default')).map((x) => x.name), [name]);
        assert.equal(await ks.checkPassword(name.toUpperCase(), 'default', new Secret('x-123456')), true, 'the login finds the user by name the same way');
      } finally {
        await ks.deleteUser(u.id);
      }
    });

    test('role grant: HEAD says no (404), PUT grants (204), HEAD says yes, a second PUT is harmless', async () => {
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

    test('services: create, list by type (without case), updateService, deleteService twice', async () => {
      const type = `image-${suffix}`;
      assert.deepEqual(await ks.listServices(type), []);
      const s = await ks.createService({ name: 'glance', type, description: 'OpenStack Image Service', enabled: true });
      assert.deepEqual(s, { id: s.id, name: 'glance', type, description: 'OpenStack Image Service', enabled: true });
      assert.deepEqual(await ks.listServices(type), [s]);
      assert.deepEqual(await ks.listServices(type.toUpperCase()), [s], 'type is a column: the collation applies');
      await ks.updateService(s.id, { description: 'OpenStack Image' });
      assert.equal((await ks.listServices(type))[0]?.description, 'OpenStack Image');
      await ks.updateService(s.id, { enabled: false });
      assert.equal((await ks.listServices(type))[0]?.enabled, false);
      await ks.deleteService(s.id);
      assert.deepEqual(await ks.listServices(type), []);
      await ks.deleteService(s.id); // 404: fine
    });

    test('endpoints: createEndpointSet, listEndpoints (region_id and region), updateEndpoint, a duplicate set, deleteEndpoint twice', async () => {
      const s = await ks.createService({ name: 'glance', type: `image-ep-${suffix}`, description: 'OpenStack Image Service', enabled: true });
      try {
        const region = target.expect.region;
        const url = 'http://controller:9292';
        await ks.createEndpointSet({ service_id: s.id, region, urls: { public: url, internal: url, admin: url } });
        const eps = await ks.listEndpoints(s.id);
        assert.deepEqual(eps.map((e) => e.interface).sort(), ['admin', 'internal', 'public']);
        for (const e of eps) {
          assert.deepEqual({ ...e, id: '' }, { id: '', service_id: s.id, interface: e.interface, url, region_id: region, region, enabled: true });
        }

        const pub = eps.find((e) => e.interface === 'public')!;
        await ks.updateEndpoint(pub.id, { enabled: false });
        assert.equal((await ks.listEndpoints(s.id)).find((e) => e.id === pub.id)?.enabled, false);
        await ks.updateEndpoint(pub.id, { enabled: true, region_id: region });
        if (target.expect.v3UrlPatch) {
          await ks.updateEndpoint(pub.id, { url: 'http://controller:9293' });
          assert.equal((await ks.listEndpoints(s.id)).find((e) => e.id === pub.id)?.url, 'http://controller:9293');
        } else {
          await assert.rejects(ks.updateEndpoint(pub.id, { url: 'http://controller:9293' }), (e: unknown) => e instanceof KeystoneError && /answered 400: Invalid input for field 'url'/.test(e.message) && /2014\.2\.1/.test(e.hint));
        }

        // Keystone keeps no uniqueness on endpoints: a second set is a duplicate set, every row listed
        await ks.createEndpointSet({ service_id: s.id, region, urls: { public: url, internal: url, admin: url } });
        const all = await ks.listEndpoints(s.id);
        assert.equal(all.length, 6);
        for (const e of all) await ks.deleteEndpoint(e.id);
        assert.deepEqual(await ks.listEndpoints(s.id), []);
        await ks.deleteEndpoint(pub.id); // 404: fine
      } finally {
        await ks.deleteService(s.id);
      }
    });

    test('a v3 endpoint naming a region that does not exist: 400 in the v3 form, created in the legacy form', async () => {
      const s = await ks.createService({ name: 'glance', type: `image-rg-${suffix}`, description: 'x', enabled: true });
      try {
        if (ks.catalogWrites === 'v3') {
          await assert.rejects(
            ks.createEndpoint({ service_id: s.id, interface: 'public', url: 'http://10.0.0.1:9292', region_id: `NoSuchRegion-${suffix}`, enabled: true }),
            keystoneError(/^Keystone: POST \/endpoints answered 400: Expecting to find endpoint region_id in region table/),
          );
        } else {
          const e = await ks.createEndpoint({ service_id: s.id, interface: 'public', url: 'http://10.0.0.1:9292', region_id: `regionTwo-${suffix}`, enabled: true });
          assert.equal(e.region_id, `regionTwo-${suffix}`);
          assert.equal(e.region, `regionTwo-${suffix}`);
        }
      } finally {
        await ks.deleteService(s.id);
      }
    });

    test('the request counter counts every HTTP request', async () => {
      const n = ks.requests;
      await ks.findRole(`member-${suffix}`);
      await ks.checkPassword('admin', 'default', creds.password);
      assert.equal(ks.requests, n + 2);
    });

    test('a wrong admin password: one error naming the user, project and openrc, without the password', async () => {
      const wrong = `${creds.password.reveal()}-wrong`;
      await assert.rejects(
        keystoneLogin(t, { ...creds, password: new Secret(wrong) }),
        (e: unknown) => keystoneError(/refused the admin credentials \(user admin@Default, project admin@Default\): wrong password, user, project or domain$/, [wrong])(e) && /admin-openrc\.sh/.test((e as KeystoneError).hint) && (e as KeystoneError).request.status === 401,
      );
    });

    test('nothing listening: "Keystone does not answer at <url>; is it running on the controller?"', async () => {
      await assert.rejects(
        keystoneLogin(t, { ...creds, authUrl: target.expect.deadAuthUrl }),
        keystoneError(/^Keystone does not answer at http:\/\/[^ ]+\/v3; is it running on the controller\?$/),
      );
    });
  });
}
