// The operator's secrets, first found first: the environment (GLANCE_DBPASS=…), then a team's file
// (--secrets FILE), then the local per-host file. What a run adopts or makes is kept in the local file.
import { Secret } from '../secret.ts';
import type { FoundSecret, SecretSpec, SecretsSource } from '../engine/playbook.ts';
import { localFile, secretsDir } from './local-file.ts';
import { teamFile } from './team-file.ts';

/** One place secrets come from. */
export interface SecretLayer {
  /** What it holds for the host: plain values by name (made Secrets at once by the caller). */
  read(host: string): Record<string, string>;
  /** How the report names it. */
  describe(name: string, host: string): string;
  /** Whether --rotate-secrets may replace its values (only the tool's own file). */
  readonly replaceable: boolean;
}

/** A secret named NAME is the environment variable NAME (GLANCE_DBPASS, GLANCE_PASS). */
export function environment(env: Readonly<Record<string, string | undefined>>): SecretLayer {
  return {
    replaceable: false,
    read: () => Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '')),
    describe: (name) => `the environment (${name})`,
  };
}

export function operatorSecrets(o: { env: Readonly<Record<string, string | undefined>>; teamFile?: string; dir?: string }): SecretsSource {
  const local = localFile(o.dir ?? secretsDir());
  const layers = [environment(o.env), ...(o.teamFile ? [teamFile(o.teamFile)] : []), local.layer];
  return {
    async load(host: string, specs: readonly SecretSpec[]) {
      const held = layers.map((l) => l.read(host));
      const out: Record<string, FoundSecret> = {};
      for (const s of specs) {
        const i = held.findIndex((h) => h[s.name] !== undefined);
        if (i >= 0) out[s.name] = { value: new Secret(held[i]![s.name]!), from: layers[i]!.describe(s.name, host), replaceable: layers[i]!.replaceable };
      }
      return out;
    },
    async keep(host, values) {
      local.keep(host, values);
    },
    where: (host, name) => `${name} in the environment${o.teamFile ? `, in ${o.teamFile}` : ', in a --secrets file'}, or in ${local.file(host)}`,
    async forget(host) {
      local.forget(host);
    },
  };
}
