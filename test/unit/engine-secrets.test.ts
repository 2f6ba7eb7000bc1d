// The engine's secrets step: the operator's sources first, then what the playbook adopts from the host
// (asked only for what is missing), then new values; a refused host value stops the run, keeping what
// was proven; rotation replaces only what the tool keeps itself, and a plan keeps no rotated value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveSecrets, type SecretsRequest } from '../../src/engine/secrets.ts';
import { EngineError } from '../../src/engine/errors.ts';
import type { Adoption, FoundSecret, SecretSpec, SecretsSource } from '../../src/engine/playbook.ts';
import { Secret } from '../../src/secret.ts';

const specs: SecretSpec[] = [
  { name: 'DBPASS', describe: 'the database password', generate: () => 'new-db' },
  { name: 'PASS', describe: 'the API password', generate: () => 'new-api' },
];

/** A source holding `held` (replaceable when kept by the tool), recording what it is asked to keep. */
function source(held: Record<string, { value: string; from: string; replaceable?: boolean }> = {}) {
  const kept: Record<string, string>[] = [];
  const s: SecretsSource = {
    async load() {
      return Object.fromEntries(Object.entries(held).map(([k, v]): [string, FoundSecret] => [k, { value: new Secret(v.value), from: v.from, replaceable: v.replaceable ?? true }]));
    },
    async keep(_host, values) {
      kept.push(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.reveal()])));
    },
    where: (_host, name) => `${name} in the environment`,
    async forget() {},
  };
  return { s, kept };
}

const adoption = (adopted: Record<string, string>, refused: Record<string, string> = {}): Adoption => ({
  adopted: Object.fromEntries(Object.entries(adopted).map(([k, v]) => [k, { value: new Secret(v), from: `adopted from the host (${k})` }])),
  refused,
});

const req = (s: SecretsSource, o: Partial<SecretsRequest> = {}): SecretsRequest => ({ host: 'h', specs, source: s, mode: 'apply', rotate: false, ...o });
const plain = (v: Record<string, Secret>) => Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x.reveal()]));

test('held values are used as they are: nothing adopted, made or kept', async () => {
  const { s, kept } = source({ DBPASS: { value: 'a', from: 'the local file' }, PASS: { value: 'b', from: 'the environment (PASS)', replaceable: false } });
  let asked = false;
  const r = await resolveSecrets(req(s, { adopt: async () => { asked = true; return adoption({}); } }));
  assert.deepEqual(plain(r.values), { DBPASS: 'a', PASS: 'b' });
  assert.deepEqual(r.origins, [{ name: 'DBPASS', from: 'the local file' }, { name: 'PASS', from: 'the environment (PASS)' }]);
  assert.equal(asked, false, 'adoption only for what is missing');
  assert.deepEqual(kept, []);
  assert.deepEqual(r.notes, []);
});

test('missing values are adopted from the host before any is made; adopted and made ones are kept', async () => {
  const { s, kept } = source({});
  let missing: string[] = [];
  const r = await resolveSecrets(req(s, { adopt: async (m) => { missing = m.map((x) => x.name); return adoption({ DBPASS: 'on-host' }); } }));
  assert.deepEqual(missing, ['DBPASS', 'PASS']);
  assert.deepEqual(plain(r.values), { DBPASS: 'on-host', PASS: 'new-api' });
  assert.deepEqual(r.origins.map((o) => o.from), ['adopted from the host (DBPASS)', 'generated: a new value']);
  assert.deepEqual(kept, [{ DBPASS: 'on-host', PASS: 'new-api' }]);
  assert.match(r.notes.join('\n'), /DBPASS adopted from the host/);
});

test('a host value that is refused stops the run, naming it, after keeping what was proven', async () => {
  const { s, kept } = source({});
  await assert.rejects(resolveSecrets(req(s, { adopt: async () => adoption({ DBPASS: 'ok' }, { PASS: 'app.conf [auth] password: the API refuses it' }) })), (e: EngineError) => {
    assert.equal(e.step, 'secrets');
    assert.match(e.message, /the host's own PASS is refused where it is checked: app\.conf \[auth\] password: the API refuses it; nothing was changed/);
    assert.match(e.hint, /PASS in the environment.*--rotate-secrets/);
    return true;
  });
  assert.deepEqual(kept, [{ DBPASS: 'ok' }]);
});

test('a secret that cannot be generated and is found nowhere: where to put it', async () => {
  const { s } = source({});
  await assert.rejects(resolveSecrets(req(s, { specs: [{ name: 'TOKEN', describe: 'a token' }] })), /no TOKEN \(a token\) for h/);
});

test('rotation: new values for what the tool keeps, none for what the operator supplies; no adoption', async () => {
  const { s, kept } = source({ DBPASS: { value: 'old', from: 'the local file' }, PASS: { value: 'env', from: 'the environment (PASS)', replaceable: false } });
  const r = await resolveSecrets(req(s, { rotate: true, adopt: async () => assert.fail('no adoption when rotating') }));
  assert.deepEqual(plain(r.values), { DBPASS: 'new-db', PASS: 'env' });
  assert.deepEqual(kept, [{ DBPASS: 'new-db' }]);
  assert.match(r.notes.join('\n'), /PASS not rotated: it comes from the environment \(PASS\); change it there/);
});

test('a plan with rotation shows new values but keeps none of them', async () => {
  const { s, kept } = source({ DBPASS: { value: 'old', from: 'the local file' }, PASS: { value: 'old2', from: 'the local file' } });
  const r = await resolveSecrets(req(s, { rotate: true, mode: 'plan' }));
  assert.deepEqual(plain(r.values), { DBPASS: 'new-db', PASS: 'new-api' });
  assert.deepEqual(kept, []);
  assert.match(r.notes[0]!, /not kept: this is a plan/);
});

// A value the playbook says it cannot use is refused wherever it comes from, before anything is kept or adopted.
const noNewline: SecretSpec[] = specs.map((s) => ({ ...s, problem: (v: string) => (v.includes('\n') ? 'it holds a line feed' : undefined) }));

test('a held value the spec refuses stops the run before the host is asked or anything is kept', async () => {
  const { s, kept } = source({ DBPASS: { value: 'a\nb', from: 'the environment (DBPASS)', replaceable: false } });
  let asked = false;
  await assert.rejects(resolveSecrets(req(s, { specs: noNewline, adopt: async () => { asked = true; return adoption({}); } })), (e: unknown) => {
    assert.ok(e instanceof EngineError);
    assert.equal(e.step, 'secrets');
    assert.match(e.message, /^DBPASS \(the database password\), from the environment \(DBPASS\), cannot be used: it holds a line feed; nothing was changed$/);
    assert.match(e.hint, /DBPASS in the environment/);
    assert.doesNotMatch(`${e.message} ${e.hint}`, /a\nb/);
    return true;
  });
  assert.equal(asked, false);
  assert.deepEqual(kept, []);
});

test('an adopted value the spec refuses stops the run too; one that rotation replaces is not looked at', async () => {
  const { s, kept } = source({});
  await assert.rejects(resolveSecrets(req(s, { specs: noNewline, adopt: async () => adoption({ PASS: 'x\ny' }) })), /PASS \(the API password\), adopted from the host \(PASS\), cannot be used/);
  assert.deepEqual(kept, []);
  const held = source({ DBPASS: { value: 'old\nvalue', from: 'the local file' } });
  const r = await resolveSecrets(req(held.s, { specs: noNewline, rotate: true }));
  assert.equal(r.values.DBPASS!.reveal(), 'new-db');
});

test('a generator whose value the spec refuses is the playbook\'s bug, said before anything is kept', async () => {
  const { s, kept } = source({});
  const bad: SecretSpec[] = [{ name: 'X', describe: 'x', generate: () => 'bad', problem: (v) => (v === 'bad' ? 'it is bad' : undefined) }];
  await assert.rejects(resolveSecrets(req(s, { specs: bad })), /X \(x\), as generated, cannot be used: it is bad/);
  assert.deepEqual(kept, []);
});
