// Secrets kept per host in a 0600 JSON file on the operator's machine: what a run made or adopted is
// written here, then reused, so a re-run never changes a password that works.
import fs from 'node:fs';
import path from 'node:path';
import type { Secret } from '../secret.ts';
import type { SecretLayer } from './layers.ts';

export function secretsDir(): string {
  return process.env.INSTALL_GLANCE_SECRETS ?? path.join(process.env.XDG_CONFIG_HOME ?? path.join(process.env.HOME ?? '/root', '.config'), 'install-glance', 'secrets');
}

export function secretsFile(host: string, dir = secretsDir()): string {
  return path.join(dir, `${host.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
}

function readStored(file: string): Record<string, unknown> {
  if (!fs.existsSync(file)) return {};
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    throw new Error('not a JSON object');
  } catch (e) {
    throw Object.assign(new Error(`the secrets file ${file} is not valid: ${(e as Error).message}`), { hint: 'fix it by hand (it maps names such as GLANCE_DBPASS to values), or move it away to start afresh' });
  }
}

/** The per-host file as a layer of the operator's secrets, and where new values are kept. */
export function localFile(dir = secretsDir()) {
  const layer: SecretLayer = {
    replaceable: true,
    read(host) {
      const stored = readStored(secretsFile(host, dir));
      return Object.fromEntries(Object.entries(stored).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
    },
    describe: (_name, host) => `the local file ${secretsFile(host, dir)}`,
  };
  return {
    layer,
    file: (host: string) => secretsFile(host, dir),
    /** Adds or replaces values; the rest of the file stays. Written whole to a temp file, then renamed. */
    keep(host: string, values: Readonly<Record<string, Secret>>): void {
      const file = secretsFile(host, dir);
      const stored = readStored(file);
      for (const [k, v] of Object.entries(values)) stored[k] = v.reveal();
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600 });
      fs.renameSync(`${file}.tmp`, file);
    },
    forget(host: string): void {
      fs.rmSync(secretsFile(host, dir), { force: true });
    },
  };
}
