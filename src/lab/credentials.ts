// A lab's secrets as the host keeps them, for tests and the CLI (cheap to load: no zx). The admin
// password is in the openrc of the lab's top layer; a trusty-shaped lab's MariaDB root and
// debian-sys-maint passwords are in its layer's credentials.json (mode 0600), since trusty keeps
// root's nowhere on the controller.
import fs from 'node:fs';
import path from 'node:path';
import type { LabRecord } from './records.ts';

export interface LabCredentials {
  adminPassword: string;
  /** trusty shape only: MariaDB root's password (root has no socket login there). */
  mysqlRootPassword?: string;
  /** trusty shape only: the password of debian-sys-maint, as in the lab's /etc/mysql/debian.cnf. */
  debianSysMaintPassword?: string;
  /** TLS labs: the lab's CA certificate on the host. */
  caFile?: string;
}

/** OS_PASSWORD from ROOTFS's /root/openstack/admin-openrc.sh, quoted ('…', as Debian labs write it) or bare (the Juno guide's). */
export function adminPasswordOf(rootfs: string): string {
  const rc = fs.readFileSync(path.join(rootfs, 'root', 'openstack', 'admin-openrc.sh'), 'utf8');
  const m = /^export OS_PASSWORD=(?:'([^']*)'|(\S+))$/m.exec(rc);
  const password = m?.[1] ?? m?.[2];
  if (!password) throw new Error(`no admin password in ${rootfs}/root/openstack/admin-openrc.sh`);
  return password;
}

export function labCredentials(r: Pick<LabRecord, 'snapshot' | 'caFile'>): LabCredentials {
  let stored: Partial<LabCredentials> = {};
  try {
    stored = JSON.parse(fs.readFileSync(path.join(path.dirname(r.snapshot), 'credentials.json'), 'utf8')) as Partial<LabCredentials>;
  } catch { /* a lab without a variant's credentials */ }
  return {
    adminPassword: adminPasswordOf(r.snapshot),
    ...(stored.mysqlRootPassword ? { mysqlRootPassword: stored.mysqlRootPassword } : {}),
    ...(stored.debianSysMaintPassword ? { debianSysMaintPassword: stored.debianSysMaintPassword } : {}),
    ...(r.caFile ? { caFile: r.caFile } : {}),
  };
}
