// The Keystone session resources share (src/providers/keystone.ts), against the keystone 2014.2 double:
// the admin logs in on the first read whatever the mode, so wrong admin credentials fail even a run with
// nothing to write, and the service user's login (its password check) is asked for at the same moment.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Transport } from '../../src/transport/ssh.ts';
import { HostSession } from '../../src/engine/host.ts';
import type { Provider } from '../../src/engine/providers.ts';
import { keystoneSession } from '../../src/providers/keystone.ts';
import { KeystoneError } from '../../src/clients/keystone.ts';
import type { AdminCredentials } from '../../src/clients/keystone-api.ts';
import { Secret } from '../../src/secret.ts';
import { startKeystoneDouble, type KeystoneDouble } from '../doubles/keystone-2014.2/server.ts';

let d: KeystoneDouble;
before(async () => {
  d = await startKeystoneDouble();
});
after(() => d.close());

function tunnels(): Transport {
  const no = () => Promise.reject(new Error('not in this fake'));
  return {
    host: 'controller', user: 'root', stats: { roundTrips: 0, commands: 0 }, exec: no, execStream: no, script: no, writeFileAtomic: no, openUnixSocket: no, close() {},
    openTcp: (host: string, port: number): Promise<Duplex> => new Promise((resolve, reject) => {
      const s = net.connect(port === 35357 ? d.adminPort : d.mainPort, '127.0.0.1');
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    }),
  };
}

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
    const ks = await host.use(keystoneSession({ credentials: creds('ADMIN_PASS'), serviceUser: demo }));
    const reader = await ks.reader();
    assert.deepEqual((await reader.findProject('admin', 'default')).map((p) => p.name), ['admin']);
    assert.equal(reader, await ks.admin(), 'reads and writes share the admin login');
    assert.equal(await ks.passwordWorks('demo', 'default', demo.password), true);
    assert.equal(tokenRequests().length - before, 2);
  });

  test('wrong admin credentials fail the first read although the service user logs in: a read-only run checks them too', async () => {
    const host = new HostSession('controller', tunnels(), () => {});
    const ks = await host.use(keystoneSession({ credentials: creds('not-the-password'), serviceUser: demo }));
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
