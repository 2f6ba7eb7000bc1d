// The openrc parser: what a process sees after `source admin-openrc.sh`, or a refusal naming the line.
// Where it matters, the expected values were checked against sh itself (the last test runs dash on
// every accepted case when /bin/sh exists).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseOpenrc, adminCredentialsFromOpenrc, adminCredentialsFromEnv, OpenrcError } from '../../src/clients/openrc.ts';
import { KeystoneError } from '../../src/clients/keystone.ts';

const accepted: { name: string; text: string; want: Record<string, string> }[] = [
  {
    name: "the lab's v3 openrc (single quotes)",
    text: "export OS_USERNAME=admin\nexport OS_PASSWORD='s3cr3t pw'\nexport OS_PROJECT_NAME=admin\nexport OS_USER_DOMAIN_NAME=Default\nexport OS_PROJECT_DOMAIN_NAME=Default\nexport OS_AUTH_URL=http://controller:5000/v3\nexport OS_IDENTITY_API_VERSION=3\n",
    want: { OS_USERNAME: 'admin', OS_PASSWORD: 's3cr3t pw', OS_PROJECT_NAME: 'admin', OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_AUTH_URL: 'http://controller:5000/v3', OS_IDENTITY_API_VERSION: '3' },
  },
  {
    name: "the Juno guide's v2.0 admin-openrc.sh",
    text: 'export OS_TENANT_NAME=admin\nexport OS_USERNAME=admin\nexport OS_PASSWORD=ADMIN_PASS\nexport OS_AUTH_URL=http://controller:35357/v2.0\n',
    want: { OS_TENANT_NAME: 'admin', OS_USERNAME: 'admin', OS_PASSWORD: 'ADMIN_PASS', OS_AUTH_URL: 'http://controller:35357/v2.0' },
  },
  {
    name: "comments, blank lines, a trailing comment, a # inside a word, 'a'\\''b'",
    text: "#!/bin/sh\n# admin credentials\n\nexport OS_PASSWORD='it'\\''s#1' # the password\nexport OS_USERNAME=ad#min\n   # indented comment\n",
    want: { OS_PASSWORD: "it's#1", OS_USERNAME: 'ad#min' },
  },
  {
    name: 'double quotes: \\" \\\\ \\$ \\` kept literal, other backslashes stay',
    text: 'export OS_PASSWORD="a\\"b\\\\c\\$d\\`e\\nf g"\n',
    want: { OS_PASSWORD: 'a"b\\c$d`e\\nf g' },
  },
  {
    name: 'unquoted backslash escapes, concatenated quotes, an empty value',
    text: "export OS_PASSWORD=a\\ b'c d'\"e\"\\$\nexport OS_REGION_NAME=\nexport OS_CACERT=''\n",
    want: { OS_PASSWORD: 'a bc de$', OS_REGION_NAME: '', OS_CACERT: '' },
  },
  {
    name: 'variables the file sets earlier, $X and ${X}, inside double quotes too',
    text: 'CONTROLLER=controller\nPORT=35357\nexport OS_AUTH_URL="http://$CONTROLLER:${PORT}/v2.0"\nexport OS_USERNAME=$CONTROLLER-admin\n',
    want: { OS_AUTH_URL: 'http://controller:35357/v2.0', OS_USERNAME: 'controller-admin' },
  },
  {
    name: 'NAME=value then export NAME; two assignments on one line; ; between commands',
    text: 'OS_PASSWORD=pw; OS_USERNAME=u OS_TENANT_NAME=t\nexport OS_PASSWORD OS_USERNAME OS_TENANT_NAME\n',
    want: { OS_PASSWORD: 'pw', OS_USERNAME: 'u', OS_TENANT_NAME: 't' },
  },
  {
    name: 'set -a exports what follows; unset removes',
    text: 'set -a\nOS_USERNAME=u\nset +a\nOS_NOT_EXPORTED=x\nexport OS_PASSWORD=p\nunset OS_PASSWORD\n',
    want: { OS_USERNAME: 'u' },
  },
  {
    name: 'unrelated lines are skipped, even ones that run things',
    text: 'echo "hello $(hostname)"\nunset OS_SERVICE_TOKEN OS_SERVICE_ENDPOINT\nif [ -f x ]; then . ./x; fi\nexport PATH=$PATH:/opt/bin\nLANG=C ls\nexport OS_USERNAME=admin\n',
    want: { OS_USERNAME: 'admin' },
  },
  {
    name: 'a line continuation and a quote spanning lines',
    text: "export OS_USERNAME=ad\\\nmin\nexport OS_PASSWORD='two\nlines'\n",
    want: { OS_USERNAME: 'admin', OS_PASSWORD: 'two\nlines' },
  },
  {
    name: "Horizon's v3 openrc with the password written in: comments, echo, unset, and its if [ -z … ]; then unset …; fi lines",
    text: [
      '#!/usr/bin/env bash', '# To use an OpenStack cloud you need to authenticate against the Identity', '# service named keystone, which returns a **Token** and **Service Catalog**.',
      'export OS_AUTH_URL=http://controller:5000/v3', '# With the addition of Keystone we have standardized on the term **project**',
      'export OS_PROJECT_ID=0123456789abcdef', 'export OS_PROJECT_NAME="admin"', 'export OS_USER_DOMAIN_NAME="Default"',
      'if [ -z "$OS_USER_DOMAIN_NAME" ]; then unset OS_USER_DOMAIN_NAME; fi', 'export OS_PROJECT_DOMAIN_ID="default"',
      'if [ -z "$OS_PROJECT_DOMAIN_ID" ]; then unset OS_PROJECT_DOMAIN_ID; fi', '# unset v2.0 items in case set', 'unset OS_TENANT_ID', 'unset OS_TENANT_NAME',
      'export OS_USERNAME="admin"', 'echo "Using the OpenStack password for project $OS_PROJECT_NAME as user $OS_USERNAME"', "export OS_PASSWORD='it'\\''s $ecret'",
      'export OS_REGION_NAME=""', '# Don\'t leave a blank variable, unset it if it was empty', 'if [ -z "$OS_REGION_NAME" ]; then unset OS_REGION_NAME; fi',
      'export OS_INTERFACE=public', 'export OS_IDENTITY_API_VERSION=3', '',
    ].join('\n'),
    want: {
      OS_AUTH_URL: 'http://controller:5000/v3', OS_PROJECT_ID: '0123456789abcdef', OS_PROJECT_NAME: 'admin', OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_ID: 'default',
      OS_USERNAME: 'admin', OS_PASSWORD: "it's $ecret", OS_INTERFACE: 'public', OS_IDENTITY_API_VERSION: '3',
    },
  },
  {
    name: 'redirections belong to their command: >/dev/null, 2>&1, 2> file',
    text: 'export OS_USERNAME=admin >/dev/null\nexport OS_PASSWORD=pw 2>&1\nexport OS_PROJECT_NAME=p 2> /dev/null\n',
    want: { OS_USERNAME: 'admin', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'p' },
  },
  {
    name: 'a quoted ~ and one inside a word are text; && between exports of other variables is not ours',
    text: "export OS_PASSWORD='~secret'\nexport OS_USERNAME=ad~min\nexport OS_CACERT=\"~/ca.pem\"\ntrue && echo x >/dev/null\n",
    want: { OS_PASSWORD: '~secret', OS_USERNAME: 'ad~min', OS_CACERT: '~/ca.pem' },
  },
];

const refused: { name: string; text: string; line: number; re: RegExp }[] = [
  { name: "bash's $'…' quoting", text: "export OS_PASSWORD=$'a\\nb'\n", line: 1, re: /OS_PASSWORD's value uses \$'…' quoting, which bash and dash read differently/ },
  { name: 'an unquoted ~ (a home directory)', text: 'export OS_CACERT=~/ca.pem\n', line: 1, re: /OS_CACERT's value starts with an unquoted ~, which sh replaces with a home directory/ },
  { name: 'an export in the background', text: 'export OS_PASSWORD=pw &\n', line: 1, re: /an OS_\* variable is set in a command run in the background \(&\), a subshell/ },
  { name: 'an export in a pipeline', text: 'export OS_PASSWORD=pw | cat\n', line: 1, re: /in a pipeline \(\|\)/ },
  { name: 'an export in a subshell', text: 'x=1\n( export OS_PASSWORD=pw )\n', line: 2, re: /inside \( … \), a subshell/ },
  { name: 'an export after ||', text: 'false || export OS_PASSWORD=pw\n', line: 1, re: /after \|\|, so whether sh sets it depends on the command before/ },
  { name: 'an export inside an if', text: 'if [ -f /x ]; then\n  export OS_PASSWORD=pw\nfi\n', line: 2, re: /inside if\/while\/for\/case/ },
  { name: "Horizon's read of the password", text: 'echo "Please enter your OpenStack Password: "\nread -sr OS_PASSWORD_INPUT\nexport OS_PASSWORD=$OS_PASSWORD_INPUT\n', line: 2, re: /`read` asks the terminal for OS_PASSWORD_INPUT \(as Horizon's openrc does for the password\), which a run cannot answer/ },
  { name: 'a byte-order mark', text: '\ufeffexport OS_USERNAME=admin\n', line: 1, re: /starts with a byte-order mark \(U\+FEFF\), which sh reads as part of the first command/ },
  { name: 'a here-document', text: 'cat <<EOF\nexport OS_PASSWORD=pw\nEOF\n', line: 1, re: /a here-document/ },
  { name: 'command substitution', text: 'export OS_USERNAME=admin\nexport OS_PASSWORD=$(cat /root/pw)\n', line: 2, re: /OS_PASSWORD's value runs \$\(…\), which this tool does not do/ },
  { name: 'backticks', text: 'export OS_PASSWORD=`cat /root/pw`\n', line: 1, re: /runs `…`/ },
  { name: 'a variable the file does not set', text: 'export OS_AUTH_URL=http://$CONTROLLER:5000/v3\n', line: 1, re: /uses \$CONTROLLER, which this file does not set/ },
  { name: 'a variable the file computes', text: 'H=$(hostname)\nexport OS_AUTH_URL=http://$H:5000/v3\n', line: 2, re: /uses \$H, which this file computes/ },
  { name: 'an unclosed single quote', text: "\nexport OS_PASSWORD='abc\n", line: 2, re: /a ' is never closed/ },
  { name: 'an unclosed double quote', text: 'export OS_PASSWORD="abc\n', line: 1, re: /a " is never closed/ },
  { name: 'Windows line ends', text: 'export OS_USERNAME=admin\r\nexport OS_PASSWORD=pw\r\n', line: 1, re: /carriage return/ },
  { name: 'an assignment that only prefixes a command', text: 'OS_PASSWORD=pw openstack token issue\n', line: 1, re: /only prefixes the command openstack/ },
  { name: '${X:-default}', text: 'export OS_PASSWORD=${PW:-x}\n', line: 1, re: /is not a plain variable/ },
  { name: 'export of a name that is not one', text: 'export OS_PASSWORD=pw 1x\n', line: 1, re: /1x is not a variable name/ },
];

describe('parseOpenrc: what `source FILE` exports', () => {
  for (const c of accepted) {
    test(c.name, () => {
      assert.deepEqual(parseOpenrc(c.text).exported, c.want);
    });
  }
  for (const c of refused) {
    test(`refused: ${c.name}`, () => {
      assert.throws(() => parseOpenrc(c.text, 'admin-openrc.sh'), (e: unknown) => {
        assert.ok(e instanceof OpenrcError, String(e));
        assert.ok(e instanceof KeystoneError, 'the engine treats it as a Keystone credentials error');
        assert.equal(e.line, c.line);
        assert.match(e.message, new RegExp(`^admin-openrc\\.sh line ${c.line}: `));
        assert.match(e.message, c.re);
        assert.match(e.hint, /write the value itself/);
        return true;
      });
    });
  }

  test('sh agrees on every accepted case (dash or bash as /bin/sh)', { skip: spawnSync('sh', ['-c', 'true']).status !== 0 }, () => {
    for (const c of accepted) {
      const script = `{\n${c.text}\n} >/dev/null 2>&1\nenv -0`;
      const r = spawnSync('sh', ['-c', script], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, encoding: 'utf8' });
      assert.equal(r.status, 0, `${c.name}: ${r.stderr}`);
      const env = Object.fromEntries(r.stdout.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      const os = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('OS_')));
      assert.deepEqual(os, c.want, c.name);
    }
  });
});

describe('admin credentials', () => {
  test('the Juno guide\'s v2.0 openrc: OS_TENANT_NAME is the project, domains are Default, the URL stays as written', () => {
    const c = adminCredentialsFromOpenrc('export OS_TENANT_NAME=admin\nexport OS_USERNAME=admin\nexport OS_PASSWORD=ADMIN_PASS\nexport OS_AUTH_URL=http://controller:35357/v2.0\n');
    assert.equal(c.projectName, 'admin');
    assert.equal(c.userDomainName, 'Default');
    assert.equal(c.projectDomainName, 'Default');
    assert.equal(c.authUrl, 'http://controller:35357/v2.0');
    assert.equal(String(c.password), '[secret]');
    assert.equal(c.password.reveal(), 'ADMIN_PASS');
  });

  test('OS_PROJECT_NAME wins over OS_TENANT_NAME; a domain id without a name is used as the id', () => {
    const c = adminCredentialsFromEnv({ OS_AUTH_URL: 'http://c:5000/v3', OS_USERNAME: 'a', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'proj', OS_TENANT_NAME: 'ten', OS_PROJECT_DOMAIN_ID: 'default' });
    assert.equal(c.projectName, 'proj');
    assert.equal(c.projectDomainId, 'default');
    assert.equal(c.userDomainId, undefined);
  });

  test('what is missing is named, and a variable set but never exported says so', () => {
    assert.throws(() => adminCredentialsFromOpenrc('OS_PASSWORD=pw\nexport OS_USERNAME=admin\nexport OS_AUTH_URL=http://c:5000/v3\n'), (e: unknown) => {
      assert.ok(e instanceof KeystoneError);
      assert.match(e.message, /^admin-openrc\.sh lacks OS_PASSWORD, OS_PROJECT_NAME \(or the v2\.0 OS_TENANT_NAME\) \(OS_PASSWORD is set on line 1 but never exported\)$/);
      assert.doesNotMatch(e.message + e.hint, /pw\b/);
      return true;
    });
  });

  test('a file that is no openrc at all: every variable named missing; a binary one said to be no script', () => {
    assert.throws(() => adminCredentialsFromOpenrc('\u0001junk\nnot a shell script at all {\n'), /lacks OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME/);
    assert.throws(() => adminCredentialsFromOpenrc('\u007fELF\u0002\u0001\u0001\u0000\u0000junk'), /^OpenrcError: admin-openrc\.sh line 1: a NUL byte: this is no shell script$/);
  });
});
