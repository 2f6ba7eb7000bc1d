// A host's secrets before its resources are built, first found first: what the operator's side holds
// (the source decides its own order: environment, a team's file, the local file), then what the host
// itself already uses (the playbook adopts it, proven), then new values. A value the host uses but
// refuses is never replaced unasked: the run stops and says so. Rotation (asked for) makes new values
// for what the tool keeps itself, never for what the operator supplies.
import { Secret } from '../secret.ts';
import { EngineError } from './errors.ts';
import type { Adoption, SecretSpec, SecretsSource } from './playbook.ts';
import type { Mode } from './report-model.ts';

export interface SecretOrigin {
  name: string;
  from: string;
}

export interface ResolvedSecrets {
  values: Record<string, Secret>;
  /** Where each came from, in the playbook's order. */
  origins: SecretOrigin[];
  /** One line each for what was adopted, made or rotated on this run (the plan shows them). */
  notes: string[];
}

export interface SecretsRequest {
  host: string;
  specs: readonly SecretSpec[];
  source: SecretsSource;
  mode: Mode;
  /** --rotate-secrets: new values for every secret the tool keeps itself. */
  rotate: boolean;
  /** The playbook's adoptSecrets, bound to the host. */
  adopt?: (missing: readonly SecretSpec[]) => Promise<Adoption>;
}

/** Why the spec refuses the value, or undefined; the value is looked at without being handed out. */
function problemOf(spec: SecretSpec, value: Secret): string | undefined {
  let why: string | undefined;
  if (spec.problem) value.satisfies((v) => (why = spec.problem!(v)) !== undefined);
  return why;
}

/** A value the playbook cannot use: the run stops before anything is changed or kept, naming where it came from. */
function refuse(r: SecretsRequest, spec: SecretSpec, value: Secret, origin: string): void {
  const why = problemOf(spec, value);
  if (why === undefined) return;
  throw new EngineError('secrets', `${spec.name} (${spec.describe}), ${origin}, cannot be used: ${why}; nothing was changed`,
    `give ${spec.name} a value without it (${r.source.where(r.host, spec.name)})`);
}

export async function resolveSecrets(r: SecretsRequest): Promise<ResolvedSecrets> {
  const found = await r.source.load(r.host, r.specs);
  // What the operator holds is checked before the host is asked for anything (a value rotation replaces is not used).
  for (const s of r.specs) {
    const f = found[s.name];
    if (f && !(r.rotate && s.generate && f.replaceable)) refuse(r, s, f.value, `from ${f.from}`);
  }
  const values: Record<string, Secret> = {};
  const from: Record<string, string> = {};
  const toKeep: Record<string, Secret> = {};
  const notes: string[] = [];
  // A plan shows what rotating would do, but keeps nothing: a later apply without --rotate-secrets must not rotate.
  const keepRotated = r.mode !== 'plan';

  for (const s of r.specs) {
    const f = found[s.name];
    if (r.rotate && s.generate && (!f || f.replaceable)) {
      const v = new Secret(s.generate());
      refuse(r, s, v, 'as generated');
      values[s.name] = v;
      from[s.name] = 'rotated: a new value';
      if (keepRotated) toKeep[s.name] = v;
      notes.push(`${s.name} rotated: a new value${keepRotated ? '' : ' (not kept: this is a plan)'}`);
    } else if (f) {
      values[s.name] = f.value;
      from[s.name] = f.from;
      if (r.rotate) notes.push(`${s.name} not rotated: it comes from ${f.from}; change it there`);
    }
  }

  const missing = r.specs.filter((s) => !values[s.name]);
  if (missing.length && r.adopt) {
    const a = await r.adopt(missing);
    for (const s of missing) {
      const x = a.adopted[s.name];
      if (!x) continue;
      refuse(r, s, x.value, x.from);
      values[s.name] = x.value;
      from[s.name] = x.from;
      toKeep[s.name] = x.value;
      notes.push(`${s.name} ${x.from}`);
    }
    const refused = missing.filter((s) => !values[s.name] && a.refused[s.name] !== undefined);
    if (refused.length) {
      // What was proven is kept all the same: the next run need not prove it again.
      await keep(r, toKeep);
      throw new EngineError('secrets',
        `the host's own ${refused.map((s) => s.name).join(' and ')} ${refused.length > 1 ? 'are' : 'is'} refused where ${refused.length > 1 ? 'they are' : 'it is'} checked: ${refused.map((s) => a.refused[s.name]).join('; ')}; nothing was changed (a working service may still hold it)`,
        `give the right value (${refused.map((s) => r.source.where(r.host, s.name)).join('; ')}), or run with --rotate-secrets to set new ones everywhere they are used`);
    }
  }

  for (const s of r.specs) {
    if (values[s.name]) continue;
    if (!s.generate) throw new EngineError('secrets', `no ${s.name} (${s.describe}) for ${r.host}`, `supply it: ${r.source.where(r.host, s.name)}`);
    const v = new Secret(s.generate());
    refuse(r, s, v, 'as generated');
    values[s.name] = v;
    from[s.name] = 'generated: a new value';
    toKeep[s.name] = v;
    notes.push(`${s.name} generated: a new value (none was found here or on the host)`);
  }

  await keep(r, toKeep);
  return { values, origins: r.specs.map((s) => ({ name: s.name, from: from[s.name]! })), notes };
}

async function keep(r: SecretsRequest, values: Record<string, Secret>): Promise<void> {
  if (Object.keys(values).length) await r.source.keep(r.host, values);
}
