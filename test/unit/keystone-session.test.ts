// The Keystone session resources share (src/providers/keystone.ts), against the keystone 2014.2 double:
// the admin logs in on the first read whatever the mode, so wrong admin credentials fail even a run with
// nothing to write, and the service user's login (its password check) is asked for at the same moment.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Transport } from '../../src/transport/ssh.ts';
import { HostSession } from '../../src/engine/host.ts';
import type { Provider } from '../../src/engine/providers.ts';
import { keystoneSession } from '../../src/providers/keystone.ts';
import { KeystoneError } from '../../src/clients/keystone.ts';
import type { AdminCredentials } from '../../src/clients/keystone-api.ts';
import { Secret } from '../../src/secret.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileTokenCache } from '../../src/clients/token-cache.ts';
import { keystoneUser } from '../../src/resources/keystone-user.ts';
import { keystoneRoleAssignment } from '../../src/resources/keystone-role-assignment.ts';
import { startKeystoneDouble, type KeystoneDouble } from '../doubles/keystone-2014.2/server.ts';
import { tunnelsTo } from '../doubles/keystone-2014.2/tunnels.ts';

let d: KeystoneDouble;
before(async () => {
  d = await startKeystoneDouble();
});
after(() => d.close());

const tunnels = (): Transport => tunnelsTo(d);

const creds = (password: string): Provider<AdminCredentials> => ({
  key: `creds ${password}`,
  open: async () => ({ authUrl: 'http://controller:5000/v3', username: 'admin', password: new Secret(password), projectName: 'admin', userDomainName: 'Default', projectDomainName: 'Default', fixHint: 'fix them in the test' }),
});

// The demo user stands for the playbook's service user: its own password, its own project.
const demo = { username: 'demo', domainId: 'default', password: new Secret('DEMO_PASS'), projectName: 'demo' };
const tokenRequests = () => d.seen.filter((x) => x.method === 'POST' && x.url.startsWith('/v3/auth/tokens'));

describe('keystoneSession', () => {
  test('the first read logs the admin in, and asks for the service user\'s token beside it: two logins, no third for its password check', async () => {
    const host = new HostSession('controller', tunnels(), () => {});
    const before = tokenRequests().length;
    const ks = await host.use(keystoneSession({ credentials: creds('ADMIN_PASS'), serviceUser: demo, tokens: null }));
    const reader = await ks.reader();
    assert.deepEqual((await reader.findProject('admin', 'default')).map((p) => p.name), ['admin']);
    assert.equal(reader, await ks.admin(), 'reads and writes share the admin login');
    assert.equal(await ks.passwordWorks('demo', 'default', demo.password), true);
    assert.equal(tokenRequests().length - before, 2);
  });

  test('wrong admin credentials fail the first read although the service user logs in: a read-only run checks them too', async () => {
    const host = new HostSession('controller', tunnels(), () => {});
    const ks = await host.use(keystoneSession({ credentials: creds('not-the-password'), serviceUser: demo, tokens: null }));
    await assert.rejects(ks.reader(), (e: unknown) => {
      assert.ok(e instanceof KeystoneError, String(e));
      assert.match(e.message, /refused the admin credentials \(user admin@Default, project admin@Default\)/);
      assert.equal(e.hint, 'fix them in the test');
      assert.equal(e.step, 'keystone admin login', 'reported as the login, not as whichever read met it first');
      assert.doesNotMatch(e.message + e.hint, /not-the-password/);
      return true;
    });
    assert.equal(await ks.passwordWorks('demo', 'default', demo.password), true, 'the service user\'s check stands on its own');
  });
});

describe('keystoneSession with tokens kept between runs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-tokens-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tokens = fileTokenCache(dir);
  const seen = (from: number) => d.seen.slice(from).map((x) => `${x.method} ${x.url.split('?')[0]}`);
  const session = (password = 'ADMIN_PASS', user = demo) => new HostSession('controller', tunnels(), () => {}).use(keystoneSession({ credentials: creds(password), serviceUser: user, tokens }));

  test('the second run hashes no password: the admin\'s kept token is used, the service user\'s is validated with it', async () => {
    const first = d.seen.length;
    const a = await session();
    await (await a.reader()).findProject('admin', 'default');
    assert.equal(await a.passwordWorks('demo', 'default', demo.password), true);
    assert.deepEqual(seen(first).filter((x) => x.startsWith('POST')), ['POST /v3/auth/tokens', 'POST /v3/auth/tokens']);
    const again = d.seen.length;
    const b = await session();
    assert.deepEqual((await (await b.reader()).findProject('admin', 'default')).map((p) => p.name), ['admin']);
    assert.equal(await b.passwordWorks('demo', 'default', demo.password), true);
    assert.deepEqual(seen(again).sort(), ['GET /v3/auth/tokens', 'GET /v3/projects']);
    for (const f of fs.readdirSync(dir)) assert.equal(fs.statSync(path.join(dir, f)).mode & 0o777, 0o600, f);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    const onDisk = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'latin1')).join('\n');
    assert.doesNotMatch(onDisk, /ADMIN_PASS|DEMO_PASS/);
  });

  test('a password changed since: Keystone dropped the user\'s tokens, so the kept one proves nothing and the check asks for a token', async () => {
    await session().then(async (s) => s.passwordWorks('demo', 'default', demo.password));
    const admin = await (await session()).admin();
    const [user] = await admin.findUser('demo', 'default');
    await admin.setUserPassword(user!.id, new Secret('CHANGED'));
    try {
      const from = d.seen.length;
      assert.equal(await (await session()).passwordWorks('demo', 'default', demo.password), false);
      // validated (404); the scoped login refused (401); the unscoped check that tells a password from a role (401)
      assert.deepEqual(seen(from), ['GET /v3/auth/tokens', 'POST /v3/auth/tokens', 'POST /v3/auth/tokens']);
    } finally {
      await admin.setUserPassword(user!.id, demo.password);
    }
  });

  test('wrong admin credentials never find the kept token; a token Keystone refuses is replaced by a login', async () => {
    await assert.rejects((await session('not-the-password')).reader(), /refused the admin credentials/);
    const key = { target: 'controller', authUrl: 'http://controller:5000/v3', user: 'admin', userDomain: 'Default', project: 'admin', projectDomain: 'Default', password: new Secret('ADMIN_PASS') };
    tokens.put(key, { token: 'revoked-long-ago', expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    const from = d.seen.length;
    assert.deepEqual((await (await session()).reader().then((c) => c.findRole('admin'))).map((r) => r.name), ['admin']);
    // Both the read and the service user's validation met the refused token: one login again serves both.
    assert.deepEqual(seen(from).sort(), ['GET /v3/auth/tokens', 'GET /v3/auth/tokens', 'GET /v3/roles', 'GET /v3/roles', 'POST /v3/auth/tokens']);
    assert.notEqual(tokens.get(key), 'revoked-long-ago');
  });

  test('a converged read of the service user and its grant is the kept token\'s validation alone; names the token does not carry are looked up', async () => {
    const provider = keystoneSession({ credentials: creds('ADMIN_PASS'), serviceUser: demo, tokens });
    const user = keystoneUser({ name: 'demo', domainId: 'default', password: demo.password, keystone: provider });
    const grant = (role: string) => keystoneRoleAssignment({ user: 'demo', domainId: 'default', project: 'demo', role, keystone: provider });
    // A first run keeps both tokens.
    const first = new HostSession('controller', tunnels(), () => {});
    await user.read(first);
    const host = new HostSession('controller', tunnels(), () => {});
    const from = d.seen.length;
    const [u, g] = await Promise.all([user.read(host), grant('_member_').read(host)]);
    assert.deepEqual(seen(from), ['GET /v3/auth/tokens']);
    const admin = await (await host.use(provider)).admin();
    const [real] = await admin.findUser('demo', 'default');
    const [project] = await admin.findProject('demo', 'default');
    const [member] = await admin.findRole('_member_');
    assert.deepEqual(u, { user: { id: real!.id, name: 'demo', domain_id: 'default', enabled: true }, duplicates: 0, passwordWorks: true });
    assert.deepEqual(g, { userId: real!.id, projectId: project!.id, roleId: member!.id, granted: true });
    const other = d.seen.length;
    assert.equal((await grant('admin').read(host)).granted, false, 'a role the token lacks: asked of Keystone');
    assert.ok(seen(other).includes('GET /v3/roles'), seen(other).join(', '));
  });

  test('a service user made in this run is proven by its own scoped login after the writes, and that token is kept for the next run', async () => {
    const fresh = { username: 'fresh', domainId: 'default', password: new Secret('FRESH_PASS'), projectName: 'demo' };
    const provider = keystoneSession({ credentials: creds('ADMIN_PASS'), serviceUser: fresh, tokens });
    const s = await new HostSession('controller', tunnels(), () => {}).use(provider);
    assert.equal(await s.passwordWorks('fresh', 'default', fresh.password), false);
    const admin = await s.admin();
    const made = await admin.createUser({ name: 'fresh', domain_id: 'default', password: fresh.password, enabled: true });
    try {
      const [project] = await admin.findProject('demo', 'default');
      const [member] = await admin.findRole('_member_');
      await admin.grantProjectRole(project!.id, made.id, member!.id);
      const from = d.seen.length;
      assert.equal(await s.passwordWorks('fresh', 'default', fresh.password), true);
      assert.deepEqual(seen(from), ['POST /v3/auth/tokens'], 'the scoped login, asked again after the writes');
      const next = await new HostSession('controller', tunnels(), () => {}).use(provider);
      const again = d.seen.length;
      assert.equal((await next.knownUser('fresh', 'default'))?.id, made.id);
      assert.deepEqual(seen(again), ['GET /v3/auth/tokens'], 'the next run validates the kept token');
    } finally {
      await admin.deleteUser(made.id);
    }
  });

  test('after a write through the session, what the token said is read again', async () => {
    const provider = keystoneSession({ credentials: creds('ADMIN_PASS'), serviceUser: demo, tokens });
    const host = new HostSession('controller', tunnels(), () => {});
    const s = await host.use(provider);
    assert.ok(await s.knownUser('demo', 'default'));
    assert.ok(await s.knownGrantByName('demo', 'default', 'demo', '_member_'));
    assert.equal(await s.knownUser('admin', 'default'), undefined, 'another user than the token\'s');
    assert.equal(await s.knownGrantByName('demo', 'default', 'admin', '_member_'), undefined, 'another project');
    const admin = await s.admin();
    const [real] = await admin.findUser('demo', 'default');
    await admin.enableUser(real!.id);
    assert.equal(await s.knownUser('demo', 'default'), undefined);
    assert.equal(await s.knownGrantByName('demo', 'default', 'demo', '_member_'), undefined);
  });

  test('answered: a kept admin token asked Keystone nothing, so it waits for the service user\'s check; with Keystone gone, it says so', async () => {
    // Both tokens kept (and this session's own checks over) before counting.
    await (await session()).passwordWorks('demo', 'default', demo.password);
    const from = d.seen.length;
    const s = await session();
    await s.reader();
    await s.answered();
    assert.deepEqual(seen(from), ['GET /v3/auth/tokens'], 'the service user\'s validation was the answer');
    // The same kept tokens, and nothing listening: the reader is had without a request, the answer never comes.
    const down = { ...tunnels(), openTcp: () => Promise.reject(new Error('Connection refused')) };
    const gone = await new HostSession('controller', down, () => {}).use(keystoneSession({ credentials: creds('ADMIN_PASS'), serviceUser: demo, tokens }));
    await gone.reader();
    await assert.rejects(gone.answered(), /Keystone does not answer at http:\/\/controller:5000\/v3/);
  });

  test('answered, without a service user: the kept admin token is validated; after a login nothing more is asked', async () => {
    const from = d.seen.length;
    const s = await new HostSession('controller', tunnels(), () => {}).use(keystoneSession({ credentials: creds('ADMIN_PASS'), tokens }));
    await s.reader();
    await s.answered();
    assert.deepEqual(seen(from), ['GET /v3/auth/tokens']);
    const cold = await new HostSession('controller', tunnels(), () => {}).use(keystoneSession({ credentials: creds('ADMIN_PASS'), tokens: null }));
    const before = d.seen.length;
    await cold.reader();
    await cold.answered();
    assert.deepEqual(seen(before), ['POST /v3/auth/tokens']);
  });

  test('the service user\'s proven token answers the role check its scope covers; anything else is left to Keystone', async () => {
    const s = await session();
    const admin = await s.admin();
    const [user] = await admin.findUser('demo', 'default');
    const [project] = await admin.findProject('demo', 'default');
    const [member] = await admin.findRole('_member_');
    const [adminRole] = await admin.findRole('admin');
    assert.equal(await s.passwordWorks('demo', 'default', demo.password), true);
    assert.equal(await s.knownGrant(project!.id, user!.id, member!.id), true);
    assert.equal(await s.knownGrant(project!.id, user!.id, adminRole!.id), undefined, 'a role the token lacks: ask');
    assert.equal(await s.knownGrant('another-project', user!.id, member!.id), undefined);
    const cold = await new HostSession('controller', tunnels(), () => {}).use(keystoneSession({ credentials: creds('ADMIN_PASS'), serviceUser: demo, tokens: null }));
    assert.equal(await cold.knownGrant(project!.id, user!.id, member!.id), undefined, 'no check started: nothing known');
    const all = await admin.listAllEndpoints();
    assert.ok(all && all.length > 0 && all.every((e) => typeof e.service_id === 'string'));
  });
});
