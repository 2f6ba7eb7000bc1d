// The lab's progress lines: a build step is one line with its time; on a terminal its start shows
// until that line replaces it in place, in a log only the finished line is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressWriter } from '../../src/cli/lab-progress.ts';
import { step } from '../../src/lab/snapshot.ts';
import { decideDownAll } from '../../src/cli/lab-down-all.ts';
import { UsageError } from '../../src/cli/usage-error.ts';

function sink(isTTY: boolean) {
  let text = '';
  return { out: { isTTY, write: (t: string) => (text += t) }, text: () => text };
}

test('a build step reports one line with its time; a failed one says so and how long it ran', async () => {
  const lines: [string, boolean][] = [];
  const progress = (line: string, opts?: { pending?: boolean }) => lines.push([line, !!opts?.pending]);
  await step('debootstrap bookworm', progress, () => new Promise((r) => setTimeout(r, 120)));
  await assert.rejects(step('install sshd', progress, () => Promise.reject(new Error('apt failed'))), /snapshot build failed at "install sshd": apt failed/);
  assert.equal(lines.length, 4);
  assert.deepEqual(lines[0], ['snapshot: debootstrap bookworm …', true]);
  assert.match(lines[1]![0], /^snapshot: debootstrap bookworm … 0\.[1-9] s$/);
  assert.equal(lines[1]![1], false);
  assert.match(lines[3]![0], /^snapshot: install sshd … failed after 0\.0 s$/);
});

test('piped: only finished lines, one per step', () => {
  const s = sink(false);
  const say = progressWriter(s.out);
  say('snapshot: debootstrap bookworm …', { pending: true });
  say('snapshot: debootstrap bookworm … 61.2 s');
  say('lv-a: up at 10.213.1.2 (bookworm) in 3.1 s');
  assert.equal(s.text(), 'snapshot: debootstrap bookworm … 61.2 s\nlv-a: up at 10.213.1.2 (bookworm) in 3.1 s\n');
});

test('on a terminal: the pending line is shown, then replaced in place by the finished one', () => {
  const s = sink(true);
  const say = progressWriter(s.out);
  say('snapshot: debootstrap bookworm …', { pending: true });
  say('snapshot: debootstrap bookworm … 61.2 s');
  say('done');
  assert.equal(s.text(), 'snapshot: debootstrap bookworm …\r\x1b[Ksnapshot: debootstrap bookworm … 61.2 s\ndone\n');
});

test('lab down --all: nothing to do, go with --yes, ask on a terminal, refuse (usage error) elsewhere', () => {
  assert.equal(decideDownAll([], { yes: false, interactive: false }), 'nothing');
  assert.equal(decideDownAll(['a'], { yes: true, interactive: false }), 'go');
  assert.equal(decideDownAll(['a'], { yes: true, interactive: true }), 'go');
  assert.equal(decideDownAll(['a', 'b'], { yes: false, interactive: true }), 'ask');
  assert.throws(() => decideDownAll(['a', 'b'], { yes: false, interactive: false }),
    (e: unknown) => e instanceof UsageError && /every lab on this machine \(2: a, b\).*add --yes/.test(e.message));
});
