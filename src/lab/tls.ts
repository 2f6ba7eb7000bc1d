// A TLS lab's certificates: a CA made for that lab alone (its key is thrown away once it has signed), and
// Keystone's server certificate for `controller`, the lab's name and its address. Made with the host's
// openssl, placed in the lab's upper layer where Debian's keystone init script looks for them
// (/etc/keystone/ssl/private/*.pem, /etc/keystone/ssl/public/*.crt: it then starts uwsgi with
// --https-socket), the CA also as /root/openstack/ca.pem (the openrc's OS_CACERT) and on the host.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sh } from './local.ts';

export interface LabTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

const VALID_DAYS = '825';

/** Makes the CA and the server certificate in a scratch directory under WORKDIR (removed again). */
export async function makeLabTls(lab: { name: string; address: string }, workDir: string): Promise<LabTls> {
  const dir = fs.mkdtempSync(path.join(workDir, 'tls-'));
  const f = (n: string) => path.join(dir, n);
  try {
    // Config files of our own: nothing comes from the host's openssl.cnf.
    fs.writeFileSync(f('ca.cnf'), ['[req]', 'distinguished_name = dn', 'x509_extensions = ext', 'prompt = no',
      '[dn]', `CN = install-glance lab ${lab.name} CA`,
      '[ext]', 'basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash', ''].join('\n'));
    fs.writeFileSync(f('server.cnf'), ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', 'CN = controller', ''].join('\n'));
    fs.writeFileSync(f('server-ext.cnf'), ['[ext]', `subjectAltName = DNS:controller, DNS:${lab.name}, IP:${lab.address}`,
      'basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', 'extendedKeyUsage = serverAuth',
      'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid', ''].join('\n'));
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await sh`openssl req -x509 -new -config ${f('ca.cnf')} ${ec} -keyout ${f('ca.key')} -out ${f('ca.pem')} -days ${VALID_DAYS}`;
    await sh`openssl req -new -config ${f('server.cnf')} ${ec} -keyout ${f('server.key')} -out ${f('server.csr')}`;
    const serial = `0x${crypto.randomBytes(16).toString('hex')}`;
    await sh`openssl x509 -req -in ${f('server.csr')} -CA ${f('ca.pem')} -CAkey ${f('ca.key')} -set_serial ${serial} -days ${VALID_DAYS} -extfile ${f('server-ext.cnf')} -extensions ext -out ${f('server.crt')}`;
    return { caPem: fs.readFileSync(f('ca.pem'), 'utf8'), certPem: fs.readFileSync(f('server.crt'), 'utf8'), keyPem: fs.readFileSync(f('server.key'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** NAME's numeric id in ROOTFS's /etc/group. */
function groupId(rootfs: string, name: string): number {
  const line = fs.readFileSync(path.join(rootfs, 'etc', 'group'), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const gid = Number(line?.split(':')[2]);
  if (!Number.isInteger(gid)) throw new Error(`no group ${name} in ${rootfs}/etc/group`);
  return gid;
}

/**
 * Makes REL (a directory, relative to the root) exist in UPPER with each component's owner and mode
 * as in the first of LOWERS that has it: a directory made in the upper layer is what the lab sees, and
 * /etc/keystone with root's mode would lock Keystone out of its own config.
 */
function mkdirLikeLower(upper: string, lowers: string[], rel: string, fallback: { mode: number; uid: number; gid: number }): void {
  let sofar = '';
  for (const part of rel.split('/').filter(Boolean)) {
    sofar = path.join(sofar, part);
    const target = path.join(upper, sofar);
    if (fs.existsSync(target)) continue;
    const st = lowers.map((l) => path.join(l, sofar)).find((p) => fs.existsSync(p));
    const { mode, uid, gid } = st ? fs.statSync(st) : fallback;
    fs.mkdirSync(target);
    fs.chownSync(target, uid, gid);
    fs.chmodSync(target, mode & 0o7777);
  }
}

/** Writes the lab's TLS files into its upper layer (UPPER), and the CA to CA_FILE on the host. */
export function placeLabTls(tls: LabTls, upper: string, lowers: string[], caFile: string): void {
  const base = lowers[lowers.length - 1]!;
  const keystone = groupId(base, 'keystone');
  const put = (rel: string, content: string, mode: number, gid = 0) => {
    fs.writeFileSync(path.join(upper, rel), content, { mode });
    fs.chownSync(path.join(upper, rel), 0, gid);
    fs.chmodSync(path.join(upper, rel), mode);
  };
  mkdirLikeLower(upper, lowers, 'etc/keystone/ssl/private', { mode: 0o750, uid: 0, gid: keystone });
  mkdirLikeLower(upper, lowers, 'etc/keystone/ssl/public', { mode: 0o755, uid: 0, gid: 0 });
  mkdirLikeLower(upper, lowers, 'root/openstack', { mode: 0o700, uid: 0, gid: 0 });
  // uwsgi reads the key as root before it drops to the keystone user; group keystone may read it too.
  put('etc/keystone/ssl/private/keystone.pem', tls.keyPem, 0o640, keystone);
  put('etc/keystone/ssl/public/keystone.crt', tls.certPem, 0o644);
  put('root/openstack/ca.pem', tls.caPem, 0o644);
  fs.writeFileSync(caFile, tls.caPem, { mode: 0o644 });
}
