// The command line as an operator meets it, run as the built command (bin/install-glance: the bundle,
// lazily loaded chunks and all, rebuilt when a source is newer) in a child process: -h,
// did-you-mean for commands and options, every option's value checked before anything runs (exit 64,
// one line saying what was given and what is wanted), --help with two examples per command, shell
// completion that works with the lazily loaded commands. Every run command here names an unroutable
// --host (TEST-NET-1), so a check that let a bad value through could never reach a lab or a real host.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { makeQcow2 } from '../../src/images/qcow2.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-cli-parse-'));
const env = { ...process.env, INSTALL_GLANCE_STATE: path.join(scratch, 'state'), NO_COLOR: '1', LANG: 'de_DE.UTF-8', FORCE_COLOR: undefined };

/** One run of the command (asynchronous, so the cases of a describe run side by side). */
function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(repoRoot, 'bin', 'install-glance'), args, { cwd: repoRoot, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

const NOWHERE = ['--host', '192.0.2.1'];

// Files for --image: nothing, empty, gzip-compressed, a qcow2 header.
fs.writeFileSync(path.join(scratch, 'empty.img'), '');
fs.writeFileSync(path.join(scratch, 'cirros.img.gz'), zlib.gzipSync(Buffer.alloc(4096)));
fs.writeFileSync(path.join(scratch, 'disk.qcow2'), makeQcow2(Buffer.alloc(65536, 1), { clusterBits: 12 }));

// The bundle is built once, before the cases run side by side.
test.before(async () => {
  const r = await cli(['--version']);
  assert.equal(r.status, 0, r.stderr);
});

describe('usage errors: exit 64, what was wrong and what to type', { concurrency: 4 }, () => {
  const cases: [string, string[], RegExp][] = [
    ['a mistyped command', ['aply'], /^usage error: unknown command aply: did you mean apply\?\nrun "install-glance --help" for the commands\n$/],
    ['a word that is no command', ['xyz'], /unknown command xyz \(the commands: plan, apply, verify, destroy, lab, completion\)/],
    ['a mistyped subcommand', ['lab', 'dwon'], /lab has no subcommand dwon: did you mean down\?\nrun "install-glance lab --help" for the commands/],
    ['a mistyped option', ['plan', '--prot', '22', ...NOWHERE], /^usage error: unknown option --prot: did you mean --port\?\nrun "install-glance plan --help" for the options\n$/],
    ['a mistyped option, one letter short', ['apply', '--known-host', 'kh', ...NOWHERE], /unknown option --known-host: did you mean --known-hosts\?/],
    ['a mistyped option of a lab command', ['lab', 'up', '--cuont', '2'], /unknown option --cuont: did you mean --count\?\nrun "install-glance lab up --help"/],
    ['an option nothing is near', ['plan', '--zzzzzz', ...NOWHERE], /unknown option --zzzzzz\n/],
    ['a stray argument', ['plan', 'extra', ...NOWHERE], /unexpected argument "extra" for plan/],
    ['--port abc', ['plan', '--port', 'abc', ...NOWHERE], /--port "abc" is not a whole number from 1 to 65535/],
    ['--port 0', ['plan', '--port', '0', ...NOWHERE], /--port "0" is not a whole number from 1 to 65535/],
    ['--port 65536', ['apply', '--port', '65536', ...NOWHERE], /--port "65536" is not a whole number from 1 to 65535/],
    ['--port 22.5', ['plan', '--port', '22.5', ...NOWHERE], /--port "22.5" is not a whole number/],
    ['--port given twice', ['plan', '--port', '22', '--port', '23', ...NOWHERE], /--port is given 2 times \(22, 23\): give it once/],
    ['--forks 0', ['plan', '--forks', '0', ...NOWHERE], /--forks "0" is not a whole number, at least 1/],
    ['--forks two', ['verify', '--forks', 'two', ...NOWHERE], /--forks "two" is not a whole number, at least 1/],
    ['--release misspelt', ['plan', '--release', 'bookwrom', ...NOWHERE], /--release "bookwrom" is not one of juno, bullseye, bookworm, trixie \(did you mean bookworm\?\)/],
    ['lab --release of no lab', ['lab', 'up', '--release', 'jessie'], /--release "jessie" is not one of bookworm, bullseye, trixie/],
    ['lab up --count 0', ['lab', 'up', '--count', '0'], /--count "0" is not a whole number from 1 to 250/],
    ['a flag without its value', ['plan', ...NOWHERE, '--user'], /--user needs a value/],
    ['an empty value', ['plan', ...NOWHERE, '--identity', ''], /--identity needs a value/],
    ['-v with -q', ['plan', '-v', '-q', ...NOWHERE], /--verbose and --quiet cannot be given together/],
    ['--dpkg-lock-timeout soon', ['apply', '--dpkg-lock-timeout', 'soon', ...NOWHERE], /--dpkg-lock-timeout "soon" is not a whole number, at least 0/],
    ['--dpkg-lock-timeout -5', ['apply', '--dpkg-lock-timeout=-5', ...NOWHERE], /--dpkg-lock-timeout "-5" is not a whole number, at least 0/],
    ['--dpkg-lock-timeout without its value', ['apply', ...NOWHERE, '--dpkg-lock-timeout'], /--dpkg-lock-timeout/],
    ['--no-wiat', ['apply', '--no-wiat', ...NOWHERE], /unknown option --no-wiat: did you mean --no-wait\?/],
    ['no command', [], /name a command: plan, apply, verify, destroy or lab/],
    ['verify --image of no file', ['verify', '--image', path.join(scratch, 'no-such.img'), ...NOWHERE], /--image .*no-such\.img: no such file/],
    ['verify --image of a directory', ['verify', '--image', scratch, ...NOWHERE], /--image .* is not a file/],
    ['verify --image of an empty file', ['verify', '--image', path.join(scratch, 'empty.img'), ...NOWHERE], /--image .*empty\.img is empty/],
    ['verify --image of a gzip file', ['verify', '--image', path.join(scratch, 'cirros.img.gz'), ...NOWHERE], /--image .*cirros\.img\.gz is gzip-compressed: Glance stores disk images as they are: gunzip it first/],
    ['verify --disk-format unknown', ['verify', '--image', path.join(scratch, 'disk.qcow2'), '--disk-format', 'qcow3', ...NOWHERE], /--disk-format "qcow3" is not one of ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2, vdi, iso, ploop \(did you mean qcow2\?\)/],
    ['verify --disk-format without --image', ['verify', '--disk-format', 'raw', ...NOWHERE], /--disk-format says what the --image FILE is: give --image too/],
    ['--image on apply', ['apply', '--image', path.join(scratch, 'disk.qcow2'), ...NOWHERE], /unknown option --image/],
  ];
  for (const [what, args, want] of cases) {
    test(what, async () => {
      const r = await cli(args);
      assert.equal(r.status, 64, `exit ${r.status}\n${r.stderr}`);
      assert.match(r.stderr, want);
      assert.match(r.stderr, /^usage error: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stdout, '');
    });
  }
});

describe('help', { concurrency: 4 }, () => {
  test('-h is --help', async () => {
    const [short, long] = await Promise.all([cli(['-h']), cli(['--help'])]);
    assert.equal(short.status, 0, short.stderr);
    assert.equal(short.stdout, long.stdout);
    assert.match(short.stdout, /Commands:\n {2}install-glance plan /);
    assert.match(short.stdout, /Exit codes: 0 done or nothing to do, 2 a plan has changes, 1 failed, 64 usage error\./);
  });

  for (const command of [['plan'], ['apply'], ['verify'], ['destroy'], ['lab', 'up'], ['lab', 'down'], ['lab', 'list'], ['lab', 'ssh'], ['lab', 'snapshot']]) {
    test(`${command.join(' ')} -h shows two examples of itself`, async () => {
      const r = await cli([...command, '-h']);
      assert.equal(r.status, 0, r.stderr);
      const examples = r.stdout.split('Examples:\n')[1] ?? '';
      const lines = examples.split('\n').filter((l) => l.startsWith(`  install-glance ${command.join(' ')}`));
      assert.equal(lines.length, 2, r.stdout);
    });
  }

  test('verify\'s help has --image, --disk-format with its choices, --keep; apply\'s has none of them', async () => {
    const [verify, apply] = await Promise.all([cli(['verify', '-h']), cli(['apply', '-h'])]);
    assert.match(verify.stdout, /--image +upload this disk image/);
    assert.match(verify.stdout, /--disk-format[^]*choices: "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"/);
    assert.match(verify.stdout, /--keep +leave the uploaded image in Glance and print its id/);
    assert.match(verify.stdout, /install-glance verify --host 192\.0\.2\.10 --image cirros-[^]*--keep/);
    assert.doesNotMatch(apply.stdout, /--image|--disk-format|--keep/);
  });

  test('a run command\'s help lists -v and -q', async () => {
    const r = await cli(['apply', '-h']);
    assert.match(r.stdout, /-v, --verbose/);
    assert.match(r.stdout, /-q, --quiet/);
  });

  test('apply\'s help says --no-wait, --no-rollback and --dpkg-lock-timeout', async () => {
    const r = await cli(['apply', '-h']);
    assert.match(r.stdout, /--wait +apply: wait for another run on the host \(--no-wait: refuse, naming it\)/);
    assert.match(r.stdout, /--rollback +restart fails on a new config: put the old back \(--no-rollback: keep new\)/);
    assert.match(r.stdout, /--dpkg-lock-timeout +seconds to wait for apt\/dpkg held by another process/);
  });
});

describe('shell completion', { concurrency: 4 }, () => {
  test('install-glance completion prints a bash script; with a zsh $SHELL, a zsh one', async () => {
    const bash = await cli(['completion'], { SHELL: '/bin/bash' });
    assert.equal(bash.status, 0, bash.stderr);
    assert.match(bash.stdout, /complete -o bashdefault -o default -F _install-glance_yargs_completions install-glance/);
    const zsh = await cli(['completion'], { SHELL: '/usr/bin/zsh' });
    assert.match(zsh.stdout, /^#compdef install-glance/);
    assert.match(zsh.stdout, /compdef _install-glance_yargs_completions install-glance/);
  });

  test('what the script asks: commands, subcommands, a command\'s options, a choice\'s values', async () => {
    const ask = async (...words: string[]) => (await cli(['--get-yargs-completions', 'install-glance', ...words])).stdout.trim().split('\n');
    const [top, lab, options, releases] = await Promise.all([ask(''), ask('lab', ''), ask('apply', '--'), ask('plan', '--release', '')]);
    assert.deepEqual(top.filter((w) => !w.startsWith('-')), ['plan', 'apply', 'verify', 'destroy', 'lab', 'completion']);
    assert.deepEqual(lab.filter((w) => !w.startsWith('-')).sort(), ['down', 'list', 'snapshot', 'ssh', 'up']);
    for (const o of ['--host', '--inventory', '--limit', '--port', '--forks', '--json', '--verbose', '--quiet', '--no-wait', '--no-rollback', '--dpkg-lock-timeout']) assert.ok(options.includes(o), `${o} in ${options.join(' ')}`);
    assert.deepEqual(releases, ['juno', 'bullseye', 'bookworm', 'trixie']);
  });

  test('verify: its own options, the disk formats, and nothing after a file option (the script falls back to file names)', async () => {
    const ask = async (...words: string[]) => (await cli(['--get-yargs-completions', 'install-glance', ...words])).stdout;
    const [options, formats, image, inventory, user] = await Promise.all([ask('verify', '--'), ask('verify', '--disk-format', ''), ask('verify', '--image', ''), ask('plan', '--inventory', ''), ask('plan', '--user', '')]);
    for (const o of ['--image', '--disk-format', '--keep']) assert.ok(options.split('\n').includes(o), `${o} in ${options}`);
    assert.deepEqual(formats.trim().split('\n'), ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop']);
    assert.equal(image, '');
    assert.equal(inventory, '');
    assert.notEqual(user, '', 'a value that is no file still gets yargs\'s answer');
  });
});

test('--version prints the version and the commit', async () => {
  const r = await cli(['--version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^install-glance \d+\.\d+\.\d+\S* \(commit .+\)\n$/);
});

test.after(() => fs.rmSync(scratch, { recursive: true, force: true }));
