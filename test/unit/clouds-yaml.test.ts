// clouds.yaml as the openstack CLI reads it (openstacksdk config/loader.py), on fixture trees under
// test/fixtures/clouds/<case>/: cwd/, home/, root/etc/ stand for the current directory, $HOME and /.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloudSettings, candidateFiles, loadCloudsFiles, CloudsYamlError, type CloudsSearch, type CloudSettings } from '../../src/clients/clouds-yaml.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/clouds');

function search(c: string, env: Record<string, string> = {}): CloudsSearch {
  const at = (...p: string[]) => path.join(fixtures, c, ...p);
  return { cwd: at('cwd'), home: at('home'), root: at('root'), env };
}

/** The settings as plain data (the password revealed, to compare). */
function plain(s: CloudSettings) {
  const { creds, ...rest } = s;
  return { ...rest, creds: { ...creds, password: creds.password.reveal() } };
}

async function refused(c: string, cloud: string, message: RegExp, hint?: RegExp, env: Record<string, string> = {}): Promise<void> {
  await assert.rejects(cloudSettings(cloud, search(c, env)), (e: unknown) => {
    assert.ok(e instanceof CloudsYamlError, String(e));
    assert.match(e.message, message);
    if (hint) assert.match(e.hint, hint);
    assert.equal(e.step, 'admin credentials');
    return true;
  });
}

describe('the search path', () => {
  test('cwd, $XDG_CONFIG_HOME (default ~/.config)/openstack, ~/.config/openstack, the XDG config dirs, /etc/openstack; yaml, yml, json each', () => {
    const files = candidateFiles('clouds', { cwd: '/w', home: '/h', env: {} });
    assert.deepEqual(files, ['/w', '/h/.config/openstack', '/h/.config/openstack', '/etc/xdg/openstack', '/etc/openstack']
      .flatMap((d) => ['yaml', 'yml', 'json'].map((x) => `${d}/clouds.${x}`)));
    assert.equal(candidateFiles('secure', { cwd: '/w', home: '/h', env: { OS_CLIENT_SECURE_FILE: '/s.yaml' } })[1], '/w/secure.yaml');
    assert.equal(candidateFiles('clouds', { cwd: '/w', home: '/h', env: { OS_CLIENT_CONFIG_FILE: '/c.yaml', XDG_CONFIG_HOME: '/x' } }).slice(0, 5).join(' '),
      '/c.yaml /w/clouds.yaml /w/clouds.yml /w/clouds.json /x/openstack/clouds.yaml');
  });

  test('the first clouds file wins whole: a cloud of a later file is unknown, and the error names the clouds found and the files read', async () => {
    await refused('precedence', 'home', /^no cloud "home" in .*precedence\/cwd\/clouds\.yaml, .*precedence\/root\/etc\/openstack\/secure\.yaml \(clouds found: here\)$/,
      /name one of here with --os-cloud \(or OS_CLOUD\), or add "home" to .*cwd\/clouds\.yaml/);
  });

  test('the first secure file of the path (here under /etc) is merged into the winning clouds file, key by key', async () => {
    const s = plain(await cloudSettings('here', search('precedence')));
    assert.equal(s.creds.password, 'from-etc-secure');
    assert.equal(s.creds.authUrl, 'https://controller:5000/v3');
    assert.equal(s.regionName, 'RegionTwo');
    assert.match(s.file, /precedence\/cwd\/clouds\.yaml$/);
    assert.match(s.secureFile ?? '', /precedence\/root\/etc\/openstack\/secure\.yaml$/);
  });

  test('OS_CLIENT_CONFIG_FILE comes first; $XDG_CONFIG_HOME is searched', async () => {
    assert.equal((await cloudSettings('named-by-env', search('precedence', { OS_CLIENT_CONFIG_FILE: path.join(fixtures, 'override/elsewhere.yaml') }))).cloud, 'named-by-env');
    assert.equal((await cloudSettings('xdg', search('nowhere', { XDG_CONFIG_HOME: path.join(fixtures, 'xdg/config-home') }))).cloud, 'xdg');
    // An empty file found first still wins (PyYAML reads it as nothing): the XDG one is never read.
    await refused('empty', 'xdg', /^no cloud "xdg" in .*empty\/cwd\/clouds\.yaml/, undefined, { XDG_CONFIG_HOME: path.join(fixtures, 'xdg/config-home') });
  });

  test('a file that does not parse is skipped with a warning, and the next one is read (clouds.json: JSON)', async () => {
    const s = await cloudSettings('json-cloud', search('broken'));
    assert.match(s.file, /broken\/home\/\.config\/openstack\/clouds\.json$/);
    assert.equal(s.warnings.length, 2);
    assert.match(s.warnings[0]!, /broken\/cwd\/clouds\.yaml skipped: not valid YAML/);
    assert.equal(s.insecure, true, 'verify: false');
    assert.equal(s.cacert, path.join(fixtures, 'broken/cwd/ca.pem'), 'a relative cacert is relative to the current directory');
    assert.match(s.warnings[1]!, /sets cacert: and turns the check off \(verify: false\)/);
  });

  test('an empty file is no clouds (as PyYAML reads it); a list is refused; nothing found names where it looked', async () => {
    const files = await loadCloudsFiles(search('empty'));
    assert.deepEqual(files.clouds, {});
    await refused('empty', 'x', /^no cloud "x" in .*empty\/cwd\/clouds\.yaml \(clouds found: none\)$/);
    await refused('not-mapping', 'x', /not-mapping\/cwd\/clouds\.yaml is empty or not a valid mapping/);
    await refused('nowhere', 'x', /^no cloud "x": no clouds\.yaml found \(looked for .*nowhere\/cwd\/clouds\.yaml, .*nowhere\/home\/\.config\/openstack\/clouds\.yaml, .*nowhere\/root\/etc\/openstack\/clouds\.yaml\)$/, /~\/\.config\/openstack/);
  });
});

describe('a cloud\'s keys', () => {
  test('kolla\'s shape: domain_name for both domains, cacert, interface, identity_api_version as a number, the password from secure.yaml', async () => {
    const s = plain(await cloudSettings('kolla-admin', search('secure')));
    assert.deepEqual(s.creds, {
      authUrl: 'https://controller:5000', username: 'admin', password: 's3cret: with a colon', projectName: 'admin', userDomainName: 'Default', projectDomainName: 'Default',
    });
    assert.equal(s.cacert, '/etc/kolla/certificates/ca/root.crt');
    assert.equal(s.insecure, false);
    assert.equal(s.interface, 'internal');
    assert.equal(s.identityApiVersion, '3');
    assert.equal(s.regionName, 'RegionOne');
    assert.match(s.secureFile ?? '', /secure\.yaml$/);
  });

  test('old spellings: keys outside auth:, tenant_* and dashes, auth_plugin, endpoint_type, domain_id, the first region and its values, a formatted auth_url, insecure "True"', async () => {
    const s = plain(await cloudSettings('old', search('legacy')));
    assert.deepEqual(s.creds, {
      authUrl: 'https://east.example.com:5000/v2.0', username: 'admin', password: 'pw', projectName: 'admin-project',
      userDomainName: 'Default', projectDomainName: 'Default', userDomainId: 'default', projectDomainId: 'default',
    });
    assert.equal(s.regionName, 'east');
    assert.equal(s.interface, 'admin');
    assert.equal(s.identityApiVersion, '2.0');
    assert.equal(s.insecure, true);
  });

  test('dashed keys inside auth:, a number as password, verify: no (YAML 1.1), a comma-separated region_name', async () => {
    const s = plain(await cloudSettings('dashes', search('legacy')));
    assert.deepEqual(s.creds, {
      authUrl: 'http://controller:5000/v3', username: 'admin', password: '12345', projectName: 'admin', userDomainName: 'Users', projectDomainName: 'Default', projectDomainId: 'p-domain-id',
    });
    assert.equal(s.insecure, true);
    assert.equal(s.regionName, 'RegionOne');
  });

  const refusals: [string, RegExp, RegExp][] = [
    ['token', /logs in with auth_type "token"; this tool logs in with a password only/, /auth_type: password/],
    ['appcred', /auth_type "v3applicationcredential"/, /--openrc/],
    ['vendor', /uses the vendor profile "vexxhost", which this tool does not read/, /auth_url/],
    ['client-cert', /sets a client certificate \(cert:\)/, /password alone/],
    ['system', /asks for a system-scoped token; this tool needs a project-scoped admin/, /project_name/],
    ['no-password', /^cloud "no-password" in .*refused\/cwd\/clouds\.yaml lacks auth: password$/, /secure\.yaml/],
    ['by-id', /lacks auth: username \(user_id alone is not supported\), auth: project_name \(project_id alone is not supported\)/, /add them/],
    ['bad-interface', /has interface "private"/, /public, internal or admin/],
    ['bad-verify', /has verify: "\/etc\/ssl\/ca\.pem"/, /cacert:/],
    ['v4', /asks for identity_api_version 4/, /identity_api_version: 3/],
    ['not-a-mapping', /is not a mapping/, /mapping/],
  ];
  for (const [cloud, message, hint] of refusals) test(`refused: ${cloud}`, () => refused('refused', cloud, message, hint));
});
