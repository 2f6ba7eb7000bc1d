// Host patterns of inventory files: ranges (padding, letters, strides, several in one name), ports, and
// what is not a host at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandHostPattern, expandRanges, parseAddress } from '../../src/inventory/patterns.ts';

test('numeric ranges keep the zero padding of their begin and include both ends', () => {
  assert.deepEqual(expandRanges('web[01:03]'), ['web01', 'web02', 'web03']);
  assert.deepEqual(expandRanges('web[8:10]'), ['web8', 'web9', 'web10']);
  assert.deepEqual(expandRanges('n[:2]'), ['n0', 'n1', 'n2']);
});

test('letter ranges, strides and several ranges in one name', () => {
  assert.deepEqual(expandRanges('db-[a:c]'), ['db-a', 'db-b', 'db-c']);
  assert.deepEqual(expandRanges('n[1:10:3]'), ['n1', 'n4', 'n7', 'n10']);
  assert.deepEqual(expandRanges('r[a:e:2]'), ['ra', 'rc', 're']);
  assert.deepEqual(expandRanges('x[1:2]-y[a:b].lan'), ['x1-ya.lan', 'x1-yb.lan', 'x2-ya.lan', 'x2-yb.lan']);
});

test('ports: name:port, IPv4:port, [IPv6]:port; a bare IPv6 address keeps its colons', () => {
  assert.deepEqual(expandHostPattern('ctl1:2222'), { hosts: ['ctl1'], port: 2222 });
  assert.deepEqual(expandHostPattern('10.0.0.[1:2]:22'), { hosts: ['10.0.0.1', '10.0.0.2'], port: 22 });
  assert.deepEqual(expandHostPattern('[2001:db8::1]:2200'), { hosts: ['2001:db8::1'], port: 2200 });
  assert.deepEqual(expandHostPattern('2001:db8::1'), { hosts: ['2001:db8::1'], port: undefined });
  assert.equal(parseAddress('not a host'), undefined);
});

test('what is not a host pattern is refused with what to write instead', () => {
  const bad: [string, RegExp][] = [
    ['web[1:x]', /neither numeric nor single letters/],
    ['web[01:3]', /same width/],
    ['web[3:1]', /is empty/],
    ['web[1:5:0]', /step "0"/],
    ['web[c:a]', /begin <= end/],
    ['web[1]', /begin:end/],
    ['web[1:3', /without "\]"/],
    ['all:', /ends with ":"/],
    ['---', /YAML/],
    ['x=1', /"x=1" is not a host name/],
    ['-e', /"-e" is not a host name/],
    ['bad_', /"bad_" is not a host name/],
  ];
  for (const [pattern, re] of bad) assert.throws(() => expandHostPattern(pattern), re, pattern);
});
