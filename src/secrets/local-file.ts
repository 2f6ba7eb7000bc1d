// Secrets kept per host in a 0600 JSON file on the operator's machine: made on the first run when the
// playbook can generate them, then reused, so a re-run never changes a password that works.
import fs from 'node:fs';
import path from 'node:path';
import { Secret } from '../secret.ts';
import type { SecretSpec, SecretsSource } from '../engine/playbook.ts';

export function secretsDir(): string {
  return process.env.INSTALL_GLANCE_SECRETS ?? path.join(process.env.XDG_CONFIG_HOME ?? path.join(process.env.HOME ?? '/root', '.config'), 'install-glance', 'secrets');
}

export function secretsFile(host: string, dir = secretsDir()): string {
  return path.join(dir, `${host.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
}

export function localSecrets(dir = secretsDir()): SecretsSource {
  return {
    async load(host: string, specs: readonly SecretSpec[]) {
      const file = secretsFile(host, dir);
      let stored: Record<string, string> = {};
      if (fs.existsSync(file)) {
        if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
        try {
          stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
        } catch (e) {
          throw Object.assign(new Error(`the secrets file ${file} is not valid JSON: ${(e as Error).message}`), { hint: 'fix it by hand (it maps names such as GLANCE_DBPASS to values), or move it away to start afresh' });
        }
      }
      let created = false;
      for (const s of specs) {
        if (typeof stored[s.name] === 'string' && stored[s.name] !== '') continue;
        if (!s.generate) throw Object.assign(new Error(`no ${s.name} (${s.describe}) for ${host}`), { hint: `put it in ${file} as "${s.name}": "…"` });
        stored[s.name] = s.generate();
        created = true;
      }
      if (created) {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        fs.writeFileSync(`${file}.tmp`, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600 });
        fs.renameSync(`${file}.tmp`, file);
      }
      return Object.fromEntries(specs.map((s) => [s.name, new Secret(stored[s.name]!)]));
    },
    async forget(host: string) {
      fs.rmSync(secretsFile(host, dir), { force: true });
    },
  };
}
