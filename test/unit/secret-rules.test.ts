// What a Glance secret may hold: every value below is either used exactly (the layer tests prove how) or
// refused up front with a reason that names the character's kind and place, never the value.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dbPasswordProblem, keystonePasswordProblem } from '../../playbooks/glance/secret-rules.ts';
import { unsafeTextProblem } from '../../src/secrets/safe-text.ts';
import { glancePlaybook } from '../../playbooks/glance/index.ts';
import { hostile } from './hostile-values.ts';


describe('both secrets', () => {
  for (const v of hostile) {
    test(`accepted: ${JSON.stringify(v)}`, () => {
      assert.equal(dbPasswordProblem(v), undefined);
      assert.equal(keystonePasswordProblem(v), undefined);
    });
  }
  const refused: [string, string, RegExp][] = [
    ['a line feed', 'ab\ncd', /a line feed \(U\+000A\) at character 3, where a line of a config file ends/],
    ['a carriage return', 'ab\r', /a carriage return \(U\+000D\) at character 3/],
    ['a NUL', 'a\0b', /a NUL byte \(U\+0000\) at character 2, where C strings/],
    ['an escape', 'a\x1b[31m', /a control character \(U\+001B\) at character 2/],
    ['a DEL', '\x7f', /a DEL \(U\+007F\) at character 1/],
    ['a C1 control (NEL)', 'a\u0085', /a control character \(U\+0085\)/],
    ['a lone surrogate', 'x\ud800y', /not valid Unicode: half of a UTF-16 surrogate pair \(U\+D800\) at character 2/],
    ['nothing', '', /it is empty/],
  ];
  for (const [name, v, re] of refused) {
    test(`refused: ${name}`, () => {
      assert.match(dbPasswordProblem(v) ?? '', re);
      assert.match(keystonePasswordProblem(v) ?? '', re);
    });
  }
  test('positions count characters, not UTF-16 units', () => {
    assert.match(unsafeTextProblem('日本😀\n') ?? '', /at character 4/);
  });
});

describe('the database password: PyMySQL sends latin-1', () => {
  test('a character outside latin-1 is refused with the reason, one inside it is not', () => {
    assert.match(dbPasswordProblem('price 5€') ?? '', /character 8 is outside latin-1, and PyMySQL \(Glance's MySQL driver\) sends a password as latin-1/);
    assert.match(dbPasswordProblem('日本') ?? '', /character 1 is outside latin-1/);
    assert.equal(dbPasswordProblem('é ü ß ÿ ¡'), undefined);
  });
  test('the Keystone password has no such limit', () => {
    assert.equal(keystonePasswordProblem('price 5€ 日本 😀'), undefined);
  });
});

describe('the Keystone password: oslo.config and Keystone', () => {
  test('a backslash right before a $ cannot be written for oslo.config', () => {
    assert.match(keystonePasswordProblem('a\\$b') ?? '', /backslash right before a \$ \(characters 2-3\), which oslo.config reads as an escaped \$/);
    assert.equal(dbPasswordProblem('a\\$b'), undefined, 'the URL percent-encodes both');
  });
  test('longer than Keystone takes', () => {
    assert.match(keystonePasswordProblem('x'.repeat(4097)) ?? '', /4097 characters long; Keystone takes at most 4096/);
    assert.equal(keystonePasswordProblem('x'.repeat(4096)), undefined);
  });
});

test('the playbook asks these of its secrets, and its generator passes them', () => {
  const [db, ks] = glancePlaybook.secrets;
  assert.equal(db?.problem, dbPasswordProblem);
  assert.equal(ks?.problem, keystonePasswordProblem);
  for (let i = 0; i < 50; i++) {
    assert.equal(db!.problem!(db!.generate!()), undefined);
    assert.equal(ks!.problem!(ks!.generate!()), undefined);
  }
});

test('no message quotes the value', () => {
  for (const v of ['sekrit€', 'sekrit\n', 'sekrit\\$']) {
    for (const why of [dbPasswordProblem(v), keystonePasswordProblem(v)]) assert.doesNotMatch(why ?? '', /sekrit/);
  }
});
