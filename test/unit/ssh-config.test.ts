// ssh_config resolution on fixture files (test/fixtures/ssh-config/): what `--host NAME` connects to,
// as OpenSSH would (ssh -G), and what it refuses or reports instead of ignoring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSshConfig, resolveHost, patternMatch, hostMatches, parseJumpList, SshConfigError, type LocalContext, type CommandLine } from '../../src/transport/ssh-config.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'ssh-config');
const home = path.join(fixtures, 'home');
const ctx: LocalContext = { home, localUser: 'alice', uid: 1000, localHost: 'ws1.example.org', env: { SSH_AUTH_SOCK: '/run/agent.sock' } };
const config = loadSshConfig(path.join(home, '.ssh', 'config'), ctx);
const resolve = (name: string, cli: CommandLine = {}) => resolveHost(config, name, cli, ctx);
const ssh = (f: string) => path.join(home, '.ssh', f);

test('an alias gets its HostName, User, Port, every IdentityFile (tokens, ~, quotes), IdentitiesOnly, UserKnownHostsFile, ConnectTimeout', () => {
  const { options, notes } = resolve('mylab');
  assert.deepEqual(options, {
    host: '10.20.0.5', alias: 'mylab', port: 2222, user: 'ops',
    identityFiles: [ssh('lab_10.20.0.5_ops'), ssh('id alice'), ssh('id_everyone')],
    identitiesOnly: true,
    knownHostsFile: [ssh('known_hosts.lab'), ssh('known_hosts.extra')],
    timeoutMs: 7000,
  });
  assert.deepEqual(notes, []);
});

test('the first value wins, as in ssh: Host * at the end only fills what is unset', () => {
  assert.equal(resolve('somewhere').options.user, 'default-user');
  assert.equal(resolve('somewhere').options.host, 'somewhere');
  assert.equal(resolve('web1').options.user, 'deploy', 'web? comes before *.corp.example and Host *');
});

test('patterns: ? is exactly one character, * any run, !negation vetoes the whole line', () => {
  assert.equal(resolve('web1').options.host, 'web1.corp.example');
  assert.equal(resolve('web').options.host, 'web', 'web? must not match "web"');
  assert.equal(resolve('web10').options.host, 'web10');
  assert.equal(resolve('web9').options.host, 'web9', '!web9 vetoes the Host line');
  assert.equal(patternMatch('a*b?', 'axxbc'), true);
  assert.equal(patternMatch('a*b?', 'axxb'), false);
  assert.equal(patternMatch('10.0.0.*', '10.0.0.12'), true);
  assert.equal(patternMatch('10.0.0.*', '10.0.0x12'), false, 'a dot is a dot, not any character');
  assert.equal(hostMatches(['!x'], 'y'), false, 'a line of only negations matches nothing');
});

test('HostName %h, and a generic block matched on the name given: web1 → web1.corp.example through its bastion', () => {
  const { options } = resolve('web1');
  assert.equal(options.host, 'web1.corp.example');
  // ssh matches Host lines against the name given, not the HostName: *.corp.example does not apply to web1.
  assert.equal(options.jump, undefined);
  const direct = resolve('app.corp.example').options;
  assert.deepEqual(direct.jump?.map((j) => [j.user, j.host, j.port, j.alias]), [['jumper', 'bastion.corp.example', 2200, 'bastion.corp.example']]);
  assert.equal(direct.user, 'corp-user');
});

test('ProxyJump chains: a,b is reached as ssh -J a b; the first hop keeps its own ProxyJump, the last one does not; each hop has its own user, keys and known_hosts', () => {
  const { options } = resolve('glance-ctl');
  assert.equal(options.host, '10.213.7.2');
  assert.deepEqual(options.jump?.map((j) => `${j.user ?? '-'}@${j.alias}=${j.host}:${j.port ?? 22}`), [
    'gw@gateway=198.51.100.1:22',   // hop1's own ProxyJump
    'default-user@hop1=192.0.2.10:22',
    'ops@hop2=192.0.2.20:2022',     // user and port from the ProxyJump spec win over hop2's config
  ]);
  const [gateway, hop1, hop2] = options.jump!;
  assert.equal(gateway!.knownHostsFile, ssh('known_hosts.gw'));
  assert.equal(hop1!.knownHostsFile, undefined);
  assert.deepEqual(hop2!.identityFiles, [ssh('hop2_key'), ssh('id_everyone')]);
  for (const hop of options.jump!) assert.equal(hop.jump, undefined, 'a hop carries no chain of its own');
});

test('ProxyJump none, first: no jump even when a later block names one; a jump to itself is refused', () => {
  assert.equal(resolve('direct-override').options.jump, undefined);
  assert.throws(() => resolve('loopy'), (e: Error) => e instanceof SshConfigError && /ProxyJump for loopy/.test(e.message));
});

test('the command line wins over the file for the target, as ssh -l/-p/-i/-o do, and reaches no jump host', () => {
  const cli = { user: 'admin', port: 2200, identity: '/keys/cli', knownHostsFile: '/kh/cli' };
  const { options } = resolve('mylab', cli);
  assert.equal(options.user, 'admin');
  assert.equal(options.port, 2200);
  assert.equal(options.identity, '/keys/cli');
  assert.equal(options.knownHostsFile, '/kh/cli');
  assert.equal(options.identityFiles?.[0], ssh('lab_10.20.0.5_admin'), '%r is the user the command line chose');
  const chain = resolve('glance-ctl', cli).options.jump!;
  assert.deepEqual(chain.map((j) => [j.user, j.port, j.identity, j.knownHostsFile]), [
    ['gw', undefined, undefined, ssh('known_hosts.gw')], ['default-user', undefined, undefined, undefined], ['ops', 2022, undefined, undefined]]);
  assert.equal(resolve('glance-ctl', { acceptNewHostKey: true }).options.jump!.every((j) => j.acceptNewHostKey), true, '--accept-new-host-key is for every hop');
});

test('Include: relative to ~/.ssh, wildcards in lexical order, files that do not match are not read', () => {
  const { options } = resolve('team-db');
  assert.equal(options.user, 'team');
  assert.equal(options.port, 2200);
});

test('StrictHostKeyChecking no is never honoured silently; accept-new is --accept-new-host-key', () => {
  const lax = resolve('lax');
  assert.equal(lax.options.acceptNewHostKey, undefined);
  assert.equal(lax.notes.length, 1);
  assert.match(lax.notes[0]!, /StrictHostKeyChecking no" for lax is not honoured: its host key is still checked .*--accept-new-host-key/);
  assert.equal(resolve('tofu').options.acceptNewHostKey, true);
});

test('ProxyCommand is refused, unless ProxyJump came first or it is "none"', () => {
  assert.throws(() => resolve('proxied'), (e: Error) => e instanceof SshConfigError && /proxied is reached through "ProxyCommand ssh -W %h:%p gateway"/.test(e.message) && /ProxyJump/.test((e as SshConfigError).hint));
  assert.deepEqual(resolve('jump-then-command').options.jump?.map((j) => j.alias), ['gateway']);
  assert.deepEqual(resolve('command-none').options.jump, undefined, 'ProxyCommand none first: a later ProxyJump does not apply, as in ssh');
});

test('Match host (against the HostName so far), originalhost, user: decided; negation works', () => {
  const { options } = resolve('by-address');
  assert.equal(options.user, 'matched-by-hostname');
  assert.equal(options.port, 2022);
  assert.equal(resolve('10.50.2.2').options.user, 'matched-by-hostname');
  assert.equal(resolve('10.51.2.2').options.user, 'default-user');
});

test('Match exec: refused when it would change the connection, ignored when it sets nothing we use or comes too late', () => {
  const matchy = loadSshConfig(path.join(fixtures, 'match-exec.conf'), ctx);
  assert.equal(resolveHost(matchy, 'pinned', {}, ctx).options.host, '10.1.1.1', 'ProxyJump none came first: the Match cannot change it');
  assert.throws(() => resolveHost(matchy, 'other', {}, ctx), (e: Error) =>
    e instanceof SshConfigError && /"Match exec test -e \/tmp\/off-vpn" sets proxyjump, and install-glance cannot evaluate "exec test -e \/tmp\/off-vpn"/.test(e.message));
});

test('an unsupported setting that changes the connection is reported, not silently dropped', () => {
  const { notes } = resolve('aliased');
  assert.deepEqual(notes, ['ssh config: hostkeyalias "other-name" for aliased is not supported by install-glance and is ignored']);
});

test('bad values are errors naming the file: an unknown token, a ProxyJump that is not [user@]host[:port]', () => {
  assert.throws(() => resolve('badtoken'), /IdentityFile "~\/.ssh\/key_%Z" uses %Z/);
  assert.throws(() => parseJumpList('a@@b:x', 'f'), /not \[user@\]host\[:port\]/);
  assert.deepEqual(parseJumpList('ssh://u@h:2,[2001:db8::1]:3,plain', 'f'), [{ user: 'u', host: 'h', port: 2 }, { host: '2001:db8::1', port: 3 }, { host: 'plain' }]);
});

test('no config file: the name is the host, nothing else is set', () => {
  const none = loadSshConfig(path.join(fixtures, 'does-not-exist'), ctx);
  assert.deepEqual(resolveHost(none, 'h', { user: 'u' }, ctx).options, { host: 'h', alias: 'h', user: 'u' });
});

test('a Host pattern that also matches its own jump host is a loop, said as such (from text through the io seam)', () => {
  const text = 'Host *.corp.example\n  ProxyJump bastion.corp.example\n';
  const cfg = loadSshConfig('/virtual/config', ctx, { readFile: (f) => (f === '/virtual/config' ? text : undefined), listDir: () => [] });
  assert.throws(() => resolveHost(cfg, 'db.corp.example', {}, ctx), (e: Error) =>
    e instanceof SshConfigError && e.message === 'ProxyJump for db.corp.example loops: db.corp.example → bastion.corp.example → bastion.corp.example' && /!bastion\.example/.test(e.hint));
});
