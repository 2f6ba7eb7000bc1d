// When a lab is ready: its sshd greets, and its Keystone issues the admin a token (over HTTPS with the
// lab's own CA when the lab has TLS), as a client of the lab will ask for one.
import fs from 'node:fs';
import net from 'node:net';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabRecord } from './records.ts';
import { adminPasswordOf } from './credentials.ts';
import { sshdListening } from './network.ts';

// A fresh lab is ready in 3–10 s; on a machine busy with other labs' apt and builds MariaDB alone has taken
// over a minute to start, so a lab is given three before it is called broken.
export async function waitReady(r: LabRecord, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const password = adminPasswordOf(r.snapshot);
  const body = JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password } } },
    scope: { project: { name: 'admin', domain: { id: 'default' } } } } });
  let sshOk = false;
  let last = '';
  while (Date.now() < deadline) {
    // Behind a bastion the host may not open sshd: its listening socket in the lab is the sign.
    if (!sshOk && r.behind) {
      sshOk = sshdListening(r.nsPid);
      if (!sshOk) last = 'ssh: sshd does not listen yet';
    } else if (!sshOk) sshOk = await sshBanner(r.address).catch((e: Error) => { last = `ssh: ${e.message}`; return false; });
    if (sshOk) {
      try {
        const status = await postToken(r, body);
        if (status === 201) return;
        last = `keystone answered ${status}`;
      } catch (e) {
        last = `keystone: ${(e as Error).message}`;
      }
    }
    await sleep(100);
  }
  throw new Error(`not ready after ${timeoutMs / 1000} s (${last})`);
}

async function postToken(r: LabRecord, body: string): Promise<number> {
  if (!r.tls) {
    const res = await fetch(`http://${r.address}:5000/v3/auth/tokens`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status;
  }
  // fetch takes no CA of its own: node:https does, and checks the certificate against it (IP SAN included).
  const ca = fs.readFileSync(r.caFile!);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: r.address, port: 5000, path: '/v3/auth/tokens', method: 'POST', ca, timeout: 5000,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

function sshBanner(host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port: 22, timeout: 2000 });
    s.once('data', (d) => { s.destroy(); resolve(d.toString().startsWith('SSH-')); });
    s.once('timeout', () => { s.destroy(); reject(new Error('timeout')); });
    s.once('error', reject);
  });
}
