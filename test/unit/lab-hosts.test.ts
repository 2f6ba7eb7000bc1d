// A lab's /etc/hosts: `controller` is always the lab itself (one address, or Glance's DB connection
// may reach another lab), other labs resolve by name, and a lab named controller is never listed elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostsFile } from '../../src/lab/lab.ts';

const labs = [
  { name: 'controller', address: '10.213.1.2' },
  { name: 'a', address: '10.213.2.2' },
  { name: 'b', address: '10.213.3.2' },
];

/** name → every address /etc/hosts gives it. */
function resolve(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split('\n').filter(Boolean)) {
    const [addr, ...names] = line.split(/\s+/);
    for (const n of names) m.set(n, [...(m.get(n) ?? []), addr!]);
  }
  return m;
}

test('the lab named controller: itself once as controller, the others by name', () => {
  const text = hostsFile(labs[0]!, labs);
  assert.equal(text, '127.0.0.1 localhost\n10.213.1.2 controller\n10.213.2.2 a\n10.213.3.2 b\n');
});

test('another lab: controller is itself, the lab named controller is not listed, the others are', () => {
  const text = hostsFile(labs[1]!, labs);
  assert.equal(text, '127.0.0.1 localhost\n10.213.2.2 a controller\n10.213.3.2 b\n');
  assert.ok(!text.includes('10.213.1.2'), 'the lab named controller is nowhere');
});

test('every name resolves to exactly one address, whoever the lab and whatever the list holds', () => {
  for (const me of labs) {
    for (const others of [labs, [...labs].reverse(), [me], []]) {
      const m = resolve(hostsFile(me, others));
      for (const [name, addrs] of m) assert.equal(addrs.length, 1, `${name} in ${me.name}'s hosts: ${addrs.join(', ')}`);
      assert.deepEqual(m.get('controller'), [me.address]);
      assert.deepEqual(m.get(me.name), [me.address]);
      assert.deepEqual(m.get('localhost'), ['127.0.0.1']);
    }
  }
});

test('a lab not yet in the list (being created) still maps itself', () => {
  assert.equal(hostsFile({ name: 'c', address: '10.213.4.2' }, labs), '127.0.0.1 localhost\n10.213.4.2 c controller\n10.213.2.2 a\n10.213.3.2 b\n');
});
