// A command loads only what it uses: the built command (bin/install-glance.cjs and the bundle in dist/,
// as installed) run with a preload that records every module file it loads. `--version` loads no package
// at all; `lab list`, `lab --help` and a lab usage error load the command line's chunks (yargs is bundled
// in one: scripts/build.mjs) but never the engine's packages (ssh2, mysql2) or the lab builder's (zx),
// which cost ~100-200 ms each at start-up (bench/startup.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-startup-modules-'));
// `lab list` reads the state directory only: an empty one of its own.
const env = { ...process.env, INSTALL_GLANCE_STATE: path.join(scratch, 'state'), NODE_OPTIONS: '' };

/** The packages (under node_modules) one run of the built command loads, and its exit code. */
function packagesLoaded(args: string[]): { packages: Set<string>; chunks: string[]; status: number | null; stdout: string } {
  const out = path.join(scratch, `loaded-${args.join('-')}.txt`);
  fs.rmSync(out, { force: true });
  const r = spawnSync(process.execPath, ['--import', path.join(repoRoot, 'test', 'loaded-modules.mjs'), path.join(repoRoot, 'bin', 'install-glance.cjs'), ...args],
    { env: { ...env, LOADED_MODULES_OUT: out }, encoding: 'utf8' });
  const files = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n') : [];
  const packages = new Set(files.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p): p is string => !!p));
  const chunks = files.filter((u) => u.includes('/dist/chunks/'));
  return { packages, chunks, status: r.status, stdout: r.stdout };
}

test('the bundle is built (bin/install-glance builds dist/ when a source is newer)', () => {
  const r = spawnSync(path.join(repoRoot, 'bin', 'install-glance'), ['--version'], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^install-glance \d+\.\d+\.\d+\S* \(commit ([0-9a-f]{12}(\+changes)?|unknown)\)\n$/);
});

test('--version loads no package', () => {
  const r = packagesLoaded(['--version']);
  assert.equal(r.status, 0);
  assert.deepEqual([...r.packages], []);
});

for (const args of [['lab', 'list'], ['lab', '--help'], ['lab', 'no-such-subcommand']]) {
  test(`${args.join(' ')} loads its chunks, not ssh2, mysql2 or zx`, () => {
    const r = packagesLoaded(args);
    assert.equal(r.status, args[1] === 'no-such-subcommand' ? 64 : 0);
    // What the recorder saw: the bundle's chunks (its parser among them), so an empty list below means something.
    assert.ok(r.chunks.length > 0, 'the preload recorded no chunk of the bundle');
    for (const heavy of ['ssh2', 'mysql2', 'zx']) assert.ok(!r.packages.has(heavy), `${args.join(' ')} loaded ${heavy}`);
  });
}

test.after(() => fs.rmSync(scratch, { recursive: true, force: true }));
