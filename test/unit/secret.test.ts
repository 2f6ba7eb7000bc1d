// Secret: its value never prints, whatever formats it (String, templates, JSON at any depth,
// util.inspect, console.log), and reveal() gives it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import util from 'node:util';
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { Secret } from '../../src/secret.ts';

const VALUE = 'hunter2-Zq7$x';
const s = new Secret(VALUE);

/** Everything a Console would write to stdout and stderr. */
function consoleOutput(write: (c: Console) => void): string {
  let out = '';
  const sink = new Writable({ write(chunk, _enc, cb) { out += String(chunk); cb(); } });
  write(new Console({ stdout: sink, stderr: sink, colorMode: false }));
  return out;
}

const renderings: [string, () => string][] = [
  ['String()', () => String(s)],
  ['template literal', () => `password=${s}`],
  ['concatenation', () => 'password=' + s],
  ['JSON.stringify', () => JSON.stringify(s)],
  ['JSON.stringify nested', () => JSON.stringify({ db: { users: [{ name: 'glance', password: s }] } })],
  ['JSON.stringify pretty, in a Map turned to an object', () => JSON.stringify(Object.fromEntries(new Map([['pw', s]])), null, 2)],
  ['util.inspect', () => util.inspect(s)],
  ['util.inspect nested deep', () => util.inspect({ a: { b: { c: { d: [s] } } } }, { depth: Infinity })],
  ['util.inspect showHidden', () => util.inspect({ s }, { showHidden: true })],
  ['util.format %s %o %O %j', () => util.format('%s %o %O %j', s, s, { s }, { s })],
  ['console.log', () => consoleOutput((c) => c.log(s, { nested: s }, [s]))],
  ['console.error / console.dir / console.table', () => consoleOutput((c) => { c.error('pw:', s); c.dir({ s }); c.table([{ s }]); })],
  ['Error message built from it', () => new Error(`login failed with ${s}`).message],
];

for (const [how, render] of renderings) {
  test(`${how} prints [secret], never the value`, () => {
    const out = render();
    assert.ok(!out.includes(VALUE), `${how} leaked: ${out}`);
    assert.match(out, /\[secret\]/, `${how} shows that something is there`);
  });
}

test('its own properties do not hold the value (spread, keys, entries)', () => {
  assert.deepEqual(Object.keys(s), []);
  assert.equal(JSON.stringify({ ...s }), '{}');
  assert.ok(!JSON.stringify(Object.entries(s)).includes(VALUE));
});

test('reveal() gives the value back; equals compares values, not objects', () => {
  assert.equal(s.reveal(), VALUE);
  assert.equal(new Secret('').reveal(), '');
  assert.ok(s.equals(new Secret(VALUE)));
  assert.ok(!s.equals(new Secret(VALUE + ' ')));
});
