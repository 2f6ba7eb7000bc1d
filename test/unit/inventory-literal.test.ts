// Values as Ansible's INI reader keeps them: shell-split words, then Python's literal_eval or the text.
// Expected values are what Python 3 prints for ast.literal_eval of the same text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iniValue } from '../../src/inventory/literal.ts';
import { shlexSplit } from '../../src/inventory/shlex.ts';

test('literals become numbers, booleans, None, lists, tuples, sets and dicts', () => {
  const cases: [string, unknown][] = [
    ['2222', 2222], ['-3', -3], ['1_000', 1000], ['0x10', 16], ['0o17', 15], ['0b11', 3], ['00', 0],
    ['1.5', 1.5], ['.5', 0.5], ['5.', 5], ['1e3', 1000],
    ['True', true], ['False', false], ['None', null],
    ["'2222'", '2222'], ['"x"', 'x'], ["'a' 'b'", 'ab'], ["'\\n'", '\n'], ["r'\\n'", '\\n'], ["b'x'", 'x'],
    ['[1, 2]', [1, 2]], ['(1,)', [1]], ['(1)', 1], ['1, 2', [1, 2]], ['{1, 2, 2}', [1, 2]],
    ["{'k': [1, 'v']}", { k: [1, 'v'] }], ['5 # a comment', 5],
  ];
  for (const [text, want] of cases) assert.deepEqual(iniValue(text), want, text);
});

test('anything else stays text, as written', () => {
  for (const text of ['true', 'yes', '010', '10.0.0.12', '/keys/ctl', 'a=b', 'ops # note', '--3', '{k:1}', "'open", '1j', '', '99999999999999999999']) {
    assert.equal(iniValue(text), text, text);
  }
});

test('host lines split as POSIX shell words, with # comments and Python shlex\'s escapes', () => {
  assert.deepEqual(shlexSplit('h a="x y" b=\'q#r\' c=d#e f=g'), ['h', 'a=x y', 'b=q#r', 'c=d']);
  assert.deepEqual(shlexSplit('h x="a\\"b\\\\c\\d" y=a\\ b z=""'), ['h', 'x=a"b\\c\\d', 'y=a b', 'z=']);
  assert.deepEqual(shlexSplit('  # only a comment'), []);
  assert.throws(() => shlexSplit('h a="open'), /no closing quotation/);
  assert.throws(() => shlexSplit('h a=\\'), /backslash ends the line/);
});
