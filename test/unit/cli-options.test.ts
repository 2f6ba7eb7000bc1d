// The pieces behind the command line's answers: the nearest known word (did you mean …?), the checks of
// option values, yargs's messages said as an operator needs them, and when colour is on.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { distance, nearest } from '../../src/cli/nearest.ts';
import { integer, oneOf, port, text } from '../../src/cli/option-checks.ts';
import { explainUsage } from '../../src/cli/usage-hints.ts';
import { wantsColour, paintFor } from '../../src/cli/colour.ts';

describe('nearest: did you mean …?', () => {
  const commands = ['plan', 'apply', 'verify', 'destroy', 'lab', 'completion'];
  test('typos, a swapped pair, a letter missing or doubled', () => {
    assert.equal(nearest('aply', commands), 'apply');
    assert.equal(nearest('pln', commands), 'plan');
    assert.equal(nearest('verfiy', commands), 'verify');
    assert.equal(nearest('destory', commands), 'destroy');
    assert.equal(nearest('APPLY', commands), 'apply', 'case does not matter');
    assert.equal(nearest('prot', ['host', 'port', 'user']), 'port');
  });

  test('nothing near: no suggestion (a short word allows one edit, a long one up to three)', () => {
    assert.equal(nearest('xyz', commands), undefined);
    assert.equal(nearest('lb', ['lab']), 'lab');
    assert.equal(nearest('ab', ['plan']), undefined, 'two letters allow one edit, and "ab" is two from plan');
    assert.equal(nearest('xy', ['lab']), undefined);
    assert.equal(nearest('completoinx', commands), 'completion');
    assert.equal(nearest('anything', []), undefined);
  });

  test('distance counts a transposition as one edit', () => {
    assert.equal(distance('ab', 'ba'), 1);
    assert.equal(distance('kitten', 'sitting'), 3);
    assert.equal(distance('', 'abc'), 3);
  });
});

describe('option values', () => {
  test('ports: whole numbers 1-65535, written as digits', () => {
    const p = port();
    assert.equal(p('22'), 22);
    assert.equal(p(' 2222 '), 2222);
    assert.equal(p(65535), 65535);
    for (const bad of ['0', '65536', 'abc', '22.5', '0x16', '1e3', '-1', '']) assert.throws(() => p(bad), /--port .* is not a whole number from 1 to 65535/, bad);
    assert.throws(() => p(['22', '23']), /--port is given 2 times \(22, 23\): give it once/);
  });

  test('a lower bound only', () => {
    const forks = integer('forks', 1);
    assert.equal(forks('5'), 5);
    assert.throws(() => forks('0'), /^Error: --forks "0" is not a whole number, at least 1$/);
  });

  test('choices, with the near miss named', () => {
    const release = oneOf('release', ['bookworm', 'trixie'] as const);
    assert.equal(release('trixie'), 'trixie');
    assert.throws(() => release('trixe'), /--release "trixe" is not one of bookworm, trixie \(did you mean trixie\?\)/);
    assert.throws(() => release('sid'), (e: Error) => !e.message.includes('did you mean'));
  });

  test('text: there, and given once', () => {
    assert.equal(text('user')('admin'), 'admin');
    assert.throws(() => text('user')('  '), /--user needs a value/);
    assert.throws(() => text('user')(['a', 'b']), /--user is given 2 times/);
  });
});

describe('yargs messages, said for the operator (no parser state: what the message alone allows)', () => {
  test('an unknown option typed as one, and its camel-case twin named once', () => {
    assert.equal(explainUsage('Unknown arguments: dry-run, dryRun', ['plan', '--dry-run'], undefined), 'unknown option --dry-run');
  });
  test('a stray word', () => {
    assert.equal(explainUsage('Unknown argument: extra', ['plan', 'extra'], undefined), 'unexpected argument "extra"');
  });
  test('conflicts and missing values', () => {
    assert.equal(explainUsage('Arguments verbose and quiet are mutually exclusive', [], undefined), '--verbose and --quiet cannot be given together');
    assert.equal(explainUsage('Not enough arguments following: user', [], undefined), '--user needs a value');
    assert.equal(explainUsage('name a command: plan, apply', [], undefined), 'name a command: plan, apply');
  });
});

describe('colour', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  const cases: [string, { isTTY: boolean }, Record<string, string | undefined>, boolean][] = [
    ['a terminal', tty, {}, true],
    ['a pipe', pipe, {}, false],
    ['NO_COLOR on a terminal', tty, { NO_COLOR: '1' }, false],
    ['an empty NO_COLOR is not set (no-color.org)', tty, { NO_COLOR: '' }, true],
    ['FORCE_COLOR into a pipe', pipe, { FORCE_COLOR: '1' }, true],
    ['FORCE_COLOR empty means on', pipe, { FORCE_COLOR: '' }, true],
    ['FORCE_COLOR=0 on a terminal', tty, { FORCE_COLOR: '0' }, false],
    ['FORCE_COLOR=false', tty, { FORCE_COLOR: 'false' }, false],
    ['FORCE_COLOR wins over NO_COLOR, as in Node', pipe, { FORCE_COLOR: '1', NO_COLOR: '1' }, true],
    ['TERM=dumb', tty, { TERM: 'dumb' }, false],
  ];
  for (const [what, stream, env, want] of cases) test(what, () => assert.equal(wantsColour(stream, env), want));

  test('the paint follows: escape codes or none', () => {
    assert.match(paintFor(tty, {}).red('x'), /^\x1b\[31mx\x1b\[39m$/);
    assert.equal(paintFor(pipe, {}).red('x'), 'x');
  });
});
