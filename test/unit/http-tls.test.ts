// https over a tunnel against real local TLS servers with a CA made here by openssl (as `lab up --tls`
// makes one): the right CA passes, and every way a certificate can be wrong is an error that names the
// certificate's problem and what to pass instead, with nothing sent to the server first. The fake
// Transport's tunnels are TCP sockets to the local server, whatever host the URL names (the host name is
// what the certificate is checked against, as on the controller).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Transport } from '../../src/transport/ssh.ts';
import { httpRequest, HttpError } from '../../src/clients/http.ts';
import { certificateProblem } from '../../src/clients/tls-tunnel.ts';
import { checkKeystonePassword, KeystoneError } from '../../src/clients/keystone.ts';
import { makeLabTls, type LabTls } from '../../src/lab/tls.ts';
import { Secret } from '../../src/secret.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-http-tls-'));
let good: LabTls;
let other: LabTls;
let tlsServer: https.Server;
let plainServer: http.Server;
/** Requests the servers saw: none may arrive when a check fails. */
const seen: string[] = [];

function listen(s: net.Server): Promise<number> {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
}

let tlsPort = 0;
let plainPort = 0;

/** Tunnels to `controller`, `other-name`, 127.0.0.1: all to the local server on `port()`. */
function tunnelsTo(port: () => number): Transport {
  const no = () => Promise.reject(new Error('not in this fake'));
  return {
    host: 'controller', user: 'root', stats: { roundTrips: 0, commands: 0 }, exec: no, execStream: no, script: no, writeFileAtomic: no, openUnixSocket: no, close() {},
    openTcp: (): Promise<Duplex> => new Promise((resolve, reject) => {
      const s = net.connect(port(), '127.0.0.1');
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    }),
  };
}

const toTls = tunnelsTo(() => tlsPort);
const toPlain = tunnelsTo(() => plainPort);

before(async () => {
  // The lab's own recipe: a CA, and a server certificate for controller, the lab's name and its address.
  [good, other] = await Promise.all([makeLabTls({ name: 'tc-unit', address: '127.0.0.1' }, tmp), makeLabTls({ name: 'tc-other', address: '127.0.0.1' }, tmp)]);
  const answer = (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"version":{"id":"v3.14"}}');
  };
  tlsServer = https.createServer({ key: good.keyPem, cert: good.certPem }, answer);
  plainServer = http.createServer(answer);
  [tlsPort, plainPort] = await Promise.all([listen(tlsServer), listen(plainServer)]);
});

after(async () => {
  tlsServer.closeAllConnections();
  plainServer.closeAllConnections();
  await Promise.all([new Promise((r) => tlsServer.close(r)), new Promise((r) => plainServer.close(r))]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The request fails with an HttpError "tls" whose problem and hint match, and the server saw nothing. */
async function refused(url: string, trust: Parameters<typeof httpRequest>[2]['tls'], problem: RegExp, hint: RegExp, t = toTls): Promise<void> {
  const before = seen.length;
  await assert.rejects(httpRequest(t, url, { method: 'POST', body: '{"password":"s3cret"}', tls: trust }), (e: unknown) => {
    assert.ok(e instanceof HttpError, String(e));
    assert.equal(e.kind, 'tls');
    assert.match(e.problem, problem);
    assert.match(e.hint, hint);
    return true;
  });
  assert.equal(seen.length, before, 'the server got a request although the check failed');
}

describe('https over the tunnel', () => {
  test('with the CA that signed it: the name in the URL (controller, or the address) checks out, the answer comes back', async () => {
    const r = await httpRequest(toTls, 'https://controller:5000/v3', { method: 'GET', tls: { ca: good.caPem } });
    assert.equal(r.status, 200);
    assert.equal(r.json<{ version: { id: string } }>().version.id, 'v3.14');
    const byAddress = await httpRequest(toTls, 'https://127.0.0.1:5000/v3', { method: 'GET', tls: { ca: good.caPem } });
    assert.equal(byAddress.status, 200);
  });

  test('no CA given (the system\'s roots): "signed by an unknown CA", its issuer named, --os-cacert suggested', () =>
    refused('https://controller:5000/v3/auth/tokens', {}, /^the certificate of controller:5000 \(issued by CN=install-glance lab tc-unit CA\) is signed by an unknown CA$/, /--os-cacert FILE.*OS_CACERT.*cacert: in clouds\.yaml.*--insecure/));

  test('another CA given: "not signed by the CA in <where it came from>"', () =>
    refused('https://controller:5000/v3', { ca: other.caPem, caSource: '--os-cacert /tmp/other.pem' }, /^the certificate of controller:5000 \(issued by CN=install-glance lab tc-unit CA\) is not signed by the CA in --os-cacert \/tmp\/other\.pem$/, /that CA file is another CA/));

  test('a name the certificate does not have: names both the host and what the certificate names', () =>
    refused('https://other-name:5000/v3', { ca: good.caPem }, /^the certificate of other-name:5000 does not name other-name \(it names DNS:controller, DNS:tc-unit, IP Address:127\.0\.0\.1\)$/, /host name the certificate names/));

  test('https to a plain HTTP port: "does not speak TLS"', () =>
    refused('https://controller:5000/v3', { ca: good.caPem }, /^controller:5000 does not speak TLS \(/, /use http:\/\/ for it/, toPlain));

  test('--insecure: no check at all, the request goes through (unknown CA, wrong name)', async () => {
    assert.equal((await httpRequest(toTls, 'https://controller:5000/v3', { method: 'GET', tls: { insecure: true } })).status, 200);
    assert.equal((await httpRequest(toTls, 'https://other-name:5000/v3', { method: 'GET', tls: { insecure: true } })).status, 200);
  });

  test('through the Keystone client: one KeystoneError, the hint said once (not inside the message too), no password in it', async () => {
    await assert.rejects(checkKeystonePassword(toTls, 'https://controller:5000/v3', 'glance', 'default', new Secret('s3cret-pass'), { tls: {} }), (e: unknown) => {
      assert.ok(e instanceof KeystoneError, String(e));
      assert.match(e.message, /^Keystone: the certificate of controller:5000 \(issued by .*\) is signed by an unknown CA$/);
      assert.match(e.hint, /--os-cacert FILE/);
      assert.equal(e.step, 'keystone');
      assert.doesNotMatch(e.message, /--os-cacert/);
      assert.doesNotMatch(e.message + e.hint, /s3cret-pass/);
      return true;
    });
  });
});

describe('certificateProblem: the words for each certificate failure', () => {
  const cert = { issuer: { CN: 'Lab CA', O: 'x' }, subject: { CN: 'controller' }, valid_from: 'Jan  1 00:00:00 2020 GMT', valid_to: 'Jan  1 00:00:00 2021 GMT', subjectaltname: 'DNS:controller' } as const;
  const cases: [string, RegExp, RegExp][] = [
    ['CERT_HAS_EXPIRED', /^the certificate of controller:5000 expired on Jan {2}1 00:00:00 2021 GMT$/, /renew the certificate/],
    ['CERT_NOT_YET_VALID', /is not valid before Jan {2}1 00:00:00 2020 GMT$/, /clocks/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', /is self-signed \(subject: CN=controller\)$/, /that very certificate as the CA/],
    ['SELF_SIGNED_CERT_IN_CHAIN', /^the certificate of controller:5000 \(issued by CN=Lab CA, O=x\) is signed by an unknown CA$/, /--os-cacert/],
    ['SOMETHING_NEW', /is not trusted: SOMETHING_NEW$/, /--os-cacert/],
  ];
  for (const [code, problem, hint] of cases) {
    test(code, () => {
      const e = certificateProblem(code, 'controller:5000', 'controller', cert, {});
      assert.match(e.problem, problem);
      assert.match(e.hint, hint);
    });
  }
});
