// Host and user names that would be read as options or break a line are refused where they come from:
// the command line (exit 64), an inventory (its file and host named), an ssh config (its file and line).
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveTargets } from '../../src/cli/targets.ts';
import { UsageError } from '../../src/cli/usage-error.ts';
import { loadSshConfig, resolveHost, SshConfigError, type LocalContext } from '../../src/transport/ssh-config.ts';
import { hostNameProblem, userNameProblem, labelProblem } from '../../src/transport/names.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-names-unit-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};
const quiet = () => {};

describe('the rules', () => {
  test('names an operator uses pass', () => {
    for (const h of ['controller', 'ctl-1.example.org', '10.0.0.11', '::1', 'fe80::1%eth0', 'ctl_1', 'xn--bcher-kva.example']) assert.equal(hostNameProblem(h), undefined, h);
    for (const u of ['root', 'ops', 'svc-glance', 'user.name', 'DOMAIN\\user', 'a@b']) assert.equal(userNameProblem(u), undefined, u);
    assert.equal(labelProblem('my controller'), undefined, 'a label with a space (YAML) is only shown');
  });
  const bad: [string, string, RegExp][] = [
    ['-oProxyCommand=sh', 'a leading -', /starts with "-"/],
    ['two words', 'a space', /white space at character 4/],
    ['tab\there', 'a tab', /control character \(U\+0009\) at character 4/],
    ['a\nb', 'a newline', /control character \(U\+000A\)/],
    ['esc\x1b[2J', 'an escape', /U\+001B/],
    ['nb\u00a0sp', 'a no-break space', /white space at character 3/],
    ['', 'nothing', /empty/],
  ];
  for (const [name, what, re] of bad) {
    test(`refused: ${what}`, () => {
      assert.match(hostNameProblem(name) ?? '', re);
      assert.match(userNameProblem(name) ?? '', re);
    });
  }
});

describe('the command line', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ host: ['-oProxyCommand=touch /tmp/x'] }, /^--host "-oProxyCommand=touch \/tmp\/x": it starts with "-"/],
    [{ host: ['ok', 'bad host'] }, /^--host "bad host": it holds white space at character 4/],
    [{ host: ['ok'], user: '-l' }, /^--user "-l": it starts with "-"/],
    [{ host: ['ok'], user: 'a\u0007b' }, /^--user "a\\u0007b": it holds a control character \(U\+0007\)/],
    [{ host: ['ok'], becomeUser: '-s' }, /^--become-user "-s": it starts with "-"/],
  ];
  for (const [args, re] of cases) {
    test(JSON.stringify(args), async () => {
      await assert.rejects(resolveTargets({ sshConfig: 'none', ...args }, quiet), (e: unknown) => e instanceof UsageError && re.test(e.message));
    });
  }
});

describe('an inventory', () => {
  const cases: [string, string, RegExp][] = [
    // The inventory reader itself takes only host names, addresses and ranges as entries.
    ['a host entry that is an option', 'all:\n  hosts:\n    "-oProxyCommand=x": {}\n', /yml:3: "-oProxyCommand=x" is not a host name or address/],
    ['a host entry that is an option (INI)', '[c]\n-oProxyCommand=x\n', /is not a host name or address|not an inventory|-oProxyCommand/],
    ['ansible_host', '[c]\nctl ansible_host=-x\n', /host "ctl": ansible_host is "-x": it starts with "-"/],
    ['ansible_ssh_host with a space', 'all:\n  hosts:\n    ctl:\n      ansible_ssh_host: "10.0.0.1 -p 1"\n', /ansible_ssh_host is "10\.0\.0\.1 -p 1": it holds white space/],
    ['ansible_user', '[c]\nctl ansible_host=10.0.0.1 ansible_user=-oX\n', /ansible_user is "-oX": it starts with "-"[^]*what to do: give the login name/],
    ['ansible_become_user', '[c]\nctl ansible_host=10.0.0.1 ansible_become_user="a b"\n', /ansible_become_user is "a b": it holds white space/],
    ['a host entry with a newline', 'all:\n  hosts:\n    "ctl\\nok=11":\n      ansible_host: 10.0.0.1\n', /is not a host name or address/],
  ];
  for (const [what, text, re] of cases) {
    test(what, async () => {
      const f = write(`inv-${what.replace(/\W+/g, '-')}.${text.startsWith('[') ? 'ini' : 'yml'}`, text);
      await assert.rejects(resolveTargets({ inventory: f }, quiet), (e: unknown) => e instanceof UsageError && re.test(e.message) ? true : assert.fail(String((e as Error).message)));
    });
  }
});

describe('an ssh config', () => {
  const ctx: LocalContext = { home: '/home/op', localUser: 'op', uid: 1000, localHost: 'ws.example', env: {} };
  const cfg = (text: string) => loadSshConfig('/virtual/config', ctx, { readFile: (f) => (f === '/virtual/config' ? text : undefined), listDir: () => [] });
  test('a HostName that is an option is refused, naming the file', () => {
    assert.throws(() => resolveHost(cfg('Host ctl\n  HostName -oProxyCommand=x\n'), 'ctl', {}, ctx), (e: unknown) =>
      e instanceof SshConfigError && /^\/virtual\/config: HostName for "ctl" is "-oProxyCommand=x": it starts with "-"/.test(e.message) && /correct the HostName line in \/virtual\/config/.test(e.hint));
  });
  test('a User with a space is refused, naming the file', () => {
    assert.throws(() => resolveHost(cfg('Host ctl\n  User "ops admin"\n'), 'ctl', {}, ctx), (e: unknown) =>
      e instanceof SshConfigError && /User for "ctl" is "ops admin": it holds white space/.test(e.message));
  });
  test('a jump host given as -x in ProxyJump is refused too', () => {
    assert.throws(() => resolveHost(cfg('Host ctl\n  ProxyJump ops@-x\n'), 'ctl', {}, ctx), (e: unknown) => e instanceof SshConfigError && /"-x": it starts with "-"/.test(e.message));
  });
});
