// Shell quoting for argv sent over SSH, proven by a real shell: every string goes through
// `sh -c "printf … <quoted>"` (and bash, the usual login shell) and must come back byte for byte.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { quote, quoteArgv } from '../../src/transport/quote.ts';
import { shq } from '../../src/engine/facts.ts';
import { hostile } from './hostile-values.ts';

const nasty = [
  "it's", "'", "''", "'\\''", '"double"', '$HOME', '${PATH}', '$(id)', '`id`', 'a\nb', 'trailing\n', '\n',
  ' lead', 'trail ', 'two  spaces', '\ttab', '', '*', '*.conf', '?', '[ab]', '~', '~root', '!', '!!', '\\', '\\n',
  ';', 'a; rm -rf /tmp/x', '&&', '|', '>out', '<in', '#not-a-comment', 'a#b', '-n', '--', '%s', '{a,b}', 'a=b c',
  'café ü 日本', 'ends-with-backslash\\', "mixed 'single' and \"double\" $x `y`", ...hostile,
];

// Files for a glob to match: an unquoted *, ? or [ab] would expand to them.
let dir = '';
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quote-test-'));
  for (const f of ['a', 'b', 'x.conf', 'y.conf']) fs.writeFileSync(path.join(dir, f), '');
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What a shell makes of the quoted command line: its arguments, NUL-separated so newlines survive. */
function throughShell(shell: string, args: string[]): string[] {
  const r = spawnSync(shell, ['-c', `printf '%s\\0' ${quoteArgv(args)}`], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/home/nobody-here' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\0').slice(0, -1);
}

for (const shell of ['sh', 'bash']) {
  describe(`round trip through ${shell} -c`, { skip: spawnSync(shell, ['-c', 'true']).status !== 0 && `${shell} is not installed` }, () => {
    for (const s of nasty) {
      test(JSON.stringify(s), () => assert.deepEqual(throughShell(shell, [s]), [s]));
    }
    test('all of them at once, as one argv', () => assert.deepEqual(throughShell(shell, nasty), nasty));
    // The facts' own quoting (names and paths put into the fact-gathering script).
    test('shq: each one as a word of a script', () => {
      const r = spawnSync(shell, ['-c', `printf '%s\\0' ${nasty.map(shq).join(' ')}`], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/home/nobody-here' } });
      assert.deepEqual(r.stdout.split('\0').slice(0, -1), nasty);
    });
  });
}

describe('quote', () => {
  test('plain words stay bare (readable command lines)', () => {
    for (const s of ['glance-manage', 'db_sync', '/etc/glance/glance-api.conf', 'glance@localhost', 'a=b', '10.0.0.1:22', 'x,y', '+%']) {
      assert.equal(quote(s), s);
    }
  });
  test('the empty string is an empty argument, not none', () => {
    assert.equal(quote(''), "''");
    assert.equal(quoteArgv(['a', '', 'b']), "a '' b");
  });
  test('anything else is single-quoted', () => {
    assert.equal(quote('a b'), "'a b'");
    assert.equal(quote("it's"), "'it'\\''s'");
  });
});
