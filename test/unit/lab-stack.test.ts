// What a lab is built from (`lab up` options → base snapshot + one layer) and what it is called when a
// second `up` under the same name asks for something else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stackFor, kindOf } from '../../src/lab/lab.ts';
import { variantKey } from '../../src/lab/variant.ts';
import { LabError } from '../../src/lab/errors.ts';

test('each option is one layer over a Debian base; juno is the trusty shape over bookworm', () => {
  assert.deepEqual(stackFor('bookworm', {}), { base: 'bookworm', variant: undefined });
  assert.deepEqual(stackFor('trixie', { tls: true }), { base: 'trixie', variant: 'tls' });
  assert.deepEqual(stackFor('bullseye', { glanceDeps: true }), { base: 'bullseye', variant: 'glance-deps' });
  assert.deepEqual(stackFor('juno', {}), { base: 'bookworm', variant: 'trusty' });
});

test('layers do not stack: --tls with --glance-deps, and either with juno, are refused with what to do', () => {
  for (const [release, opts, what] of [
    ['bookworm', { tls: true, glanceDeps: true }, /--tls and --glance-deps cannot be combined/],
    ['juno', { glanceDeps: true }, /--glance-deps is not offered with --release juno/],
    ['juno', { tls: true }, /--tls is not offered with --release juno/],
  ] as const) {
    assert.throws(() => stackFor(release, opts), (e: unknown) => e instanceof LabError && what.test(e.message) && e.hint.length > 0);
  }
});

test('a lab\'s kind is said in lab up\'s words', () => {
  assert.equal(kindOf({ release: 'bookworm' }), 'bookworm');
  assert.equal(kindOf({ release: 'bookworm', glanceDeps: true }), 'bookworm --glance-deps');
  assert.equal(kindOf({ release: 'trixie', tls: true }), 'trixie --tls');
});

test('the glance-deps layer has a key of its own per base, apart from the other layers', () => {
  const keys = [variantKey('glance-deps', 'bookworm', 'aaaa'), variantKey('glance-deps', 'bookworm', 'bbbb'), variantKey('glance-deps', 'trixie', 'aaaa'), variantKey('tls', 'bookworm', 'aaaa')];
  assert.equal(new Set(keys).size, keys.length);
  assert.equal(variantKey('glance-deps', 'bookworm', 'aaaa'), keys[0]);
});
