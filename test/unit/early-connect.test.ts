// Connections started before the engine loads: each taken once, the rest made on demand, the unused closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transport } from '../../src/transport/ssh.ts';
import { earlyConnections } from '../../src/cli/early-connect.ts';

function fakeConnect() {
  const made: string[] = [];
  const closed: string[] = [];
  const connect = (target: { name: string; fails?: boolean }): Promise<Transport> => {
    made.push(target.name);
    if (target.fails) return Promise.reject(new Error(`${target.name}: connection refused`));
    return Promise.resolve({ host: target.name, close: () => closed.push(target.name) } as unknown as Transport);
  };
  return { made, closed, connect };
}

test('the first hosts connect at once; the run takes each of those once, and any other connects when asked', async () => {
  const f = fakeConnect();
  const targets = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
  const early = earlyConnections(targets, 2, f.connect);
  assert.deepEqual(f.made, ['a', 'b'], 'started before anyone asked');
  assert.equal((await early.connect(targets[0]!)).host, 'a');
  assert.deepEqual(f.made, ['a', 'b'], 'taken, not made again');
  await early.connect(targets[0]!);
  assert.deepEqual(f.made, ['a', 'b', 'a'], 'a second connection to the same host is a new one');
  await early.connect(targets[2]!);
  assert.deepEqual(f.made, ['a', 'b', 'a', 'c']);
  early.closeUnused();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(f.closed, ['b'], 'the one nobody took is closed');
});

test('a connection that fails early fails the run that takes it, and nothing else', async () => {
  const f = fakeConnect();
  const bad = { name: 'down', fails: true };
  const early = earlyConnections([bad], 5, f.connect);
  // Nothing awaits it yet: an unhandled rejection here would end the test process.
  await new Promise((r) => setTimeout(r, 10));
  await assert.rejects(early.connect(bad), /down: connection refused/);
  early.closeUnused();
  assert.deepEqual(f.closed, []);
});
