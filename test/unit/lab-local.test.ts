// The lab builder's local commands run as themselves: root's ~/.bashrc, which bash reads for a `bash -c`
// it takes for sshd's (stdin a socket, SHLVL under 2), neither slows them nor prints into their output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { sh } from '../../src/lab/local.ts';

test('a local command does not read ~/.bashrc, even where bash would take itself for sshd\'s', async (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-home-'));
  try {
    fs.writeFileSync(path.join(home, '.bashrc'), 'echo "from the bashrc"\n');
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    delete env.SHLVL;
    // The condition the fix is for: a plain bash -c from Node, with this environment, reads the file.
    const plain = spawnSync('bash', ['-c', 'echo command'], { env, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8' });
    if (!plain.stdout.includes('from the bashrc')) return t.skip('this bash does not read ~/.bashrc for a bash -c on a socket (built without SSH_SOURCE_BASHRC)');
    const r = await sh({ env })`echo ${'command'}`;
    assert.equal(r.stdout, 'command\n');
    const input = await sh({ env, input: 'from stdin\n' })`cat`;
    assert.equal(input.stdout, 'from stdin\n', 'input still reaches the command');
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
