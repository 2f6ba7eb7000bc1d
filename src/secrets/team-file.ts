// A team's secrets file (--secrets FILE): the same JSON as the per-host file, either keyed by host
// ({"controller": {"GLANCE_DBPASS": "…"}}) or flat ({"GLANCE_DBPASS": "…"}, for every host); a host's own
// entry wins over the flat values. Read once per run, never written.
import fs from 'node:fs';
import type { SecretLayer } from './layers.ts';

export class SecretsFileError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'SecretsFileError';
  }
}

export interface TeamSecrets {
  flat: Record<string, string>;
  byHost: Record<string, Record<string, string>>;
}

const hintShape = 'write a JSON object: {"HOST": {"GLANCE_DBPASS": "…", "GLANCE_PASS": "…"}} or {"GLANCE_DBPASS": "…", "GLANCE_PASS": "…"}';

/** The file's text as flat values and per-host values; a value that is neither text nor an object of texts is refused. */
export function parseTeamSecrets(text: string, file: string): TeamSecrets {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new SecretsFileError(`the secrets file ${file} is not JSON: ${(e as Error).message}`, hintShape);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new SecretsFileError(`the secrets file ${file} is not a JSON object`, hintShape);
  const out: TeamSecrets = { flat: {}, byHost: {} };
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string') out.flat[k] = x;
    else if (x && typeof x === 'object' && !Array.isArray(x)) {
      const entry: Record<string, string> = {};
      for (const [name, value] of Object.entries(x)) {
        if (typeof value !== 'string') throw new SecretsFileError(`the secrets file ${file}: "${k}"."${name}" is not text`, hintShape);
        entry[name] = value;
      }
      out.byHost[k] = entry;
    } else throw new SecretsFileError(`the secrets file ${file}: "${k}" is neither text nor an object of a host's secrets`, hintShape);
  }
  return out;
}

export function teamFile(file: string): SecretLayer {
  let parsed: TeamSecrets | undefined;
  const load = (): TeamSecrets => {
    if (parsed) return parsed;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new SecretsFileError(`cannot read the secrets file ${file}: ${(e as Error).message}`, 'check the path given to --secrets');
    }
    return (parsed = parseTeamSecrets(text, file));
  };
  return {
    replaceable: false,
    read(host) {
      const t = load();
      const values = { ...t.flat, ...(t.byHost[host] ?? {}) };
      return Object.fromEntries(Object.entries(values).filter(([, x]) => x !== ''));
    },
    describe: (name, host) => (load().byHost[host]?.[name] !== undefined ? `${file} (its "${host}" entry)` : file),
  };
}
