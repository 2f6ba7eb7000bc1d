// Service passwords, made on the first run and kept per host in a 0600 file on the operator's machine,
// then reused: a re-run must not change a password that works.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Secret } from '../secret.ts';

export interface ServiceSecrets {
  glanceDbPass: Secret;
  glancePass: Secret;
}

export function secretsDir(): string {
  const base = process.env.INSTALL_GLANCE_SECRETS ?? path.join(process.env.XDG_CONFIG_HOME ?? path.join(process.env.HOME ?? '/root', '.config'), 'install-glance', 'secrets');
  return base;
}

export function secretsFile(host: string): string {
  return path.join(secretsDir(), `${host.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
}

/** Alphanumeric so the password survives a URL, an INI file and a shell without quoting. */
function generate(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = crypto.randomBytes(24);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

export function loadOrCreateSecrets(host: string): { secrets: ServiceSecrets; created: boolean; file: string } {
  const file = secretsFile(host);
  let stored: Record<string, string> = {};
  let created = false;
  if (fs.existsSync(file)) {
    const st = fs.statSync(file);
    if ((st.mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
    stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
  }
  for (const key of ['GLANCE_DBPASS', 'GLANCE_PASS']) {
    if (!stored[key]) {
      stored[key] = generate();
      created = true;
    }
  }
  if (created) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  }
  return { secrets: { glanceDbPass: new Secret(stored.GLANCE_DBPASS!), glancePass: new Secret(stored.GLANCE_PASS!) }, created, file };
}
