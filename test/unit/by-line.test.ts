import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byLine } from '../../src/resources/by-line.ts';

test('lines cut across chunks come whole, and an unfinished last line waits', () => {
  const seen: string[] = [];
  const feed = byLine((l) => seen.push(l));
  feed('pmstatus:gla');
  assert.deepEqual(seen, []);
  feed('nce:10:Unpacking\npmstatus:glance:20:Setting up\nprocess');
  assert.deepEqual(seen, ['pmstatus:glance:10:Unpacking', 'pmstatus:glance:20:Setting up']);
  feed('ing: configure: glance-api\n\n');
  assert.deepEqual(seen.slice(2), ['processing: configure: glance-api', '']);
});
