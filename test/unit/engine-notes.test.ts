// host.note(): what a resource or a session has to say about the run (where an input came from, a check
// switched off) lands once in the host's report notes, after the release's, and is printed with them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runHost } from '../../src/engine/run-host.ts';
import { formatHost } from '../../src/engine/report.ts';
import type { Playbook } from '../../src/engine/playbook.ts';
import type { Provider } from '../../src/engine/providers.ts';
import { FakeController, FakeTransport } from './fake-transport.ts';
import { OS_RELEASE, JOURNAL_PATH } from './engine-helpers.ts';

test('a note from a session and from a resource is in the report once, after the release\'s notes, and printed', async () => {
  const source: Provider<string> = {
    key: 'source',
    open: async (host) => {
      host.note('credentials: from a fake source');
      return 'opened';
    },
  };
  const playbook: Playbook<Record<string, never>> = {
    id: 'fake', describe: 'a fake', options: [], secrets: [], facts: [],
    profiles: { bookworm: { id: 'bookworm', notes: ['not on this release: a thing'] } },
    profileFor: () => ({ id: 'bookworm', notes: ['not on this release: a thing'] }),
    settings: () => ({}),
    resources: () => [1, 2].map((n) => ({
      kind: 'fake', id: `r${n}`,
      read: async (host) => {
        await host.use(source);
        host.note('credentials: from a fake source');
        return 'x';
      },
      diff: () => ({ action: 'none' as const, changes: [], why: 'fine', ops: [] }),
      apply: async () => {},
    })),
    handlers: () => [],
  };
  const c = new FakeController({ '/etc/os-release': OS_RELEASE });
  const report = await runHost({ name: 'controller', host: 'controller' }, {
    mode: 'plan', playbook, settings: {}, journalPath: JOURNAL_PATH, progress: () => {},
    secrets: { load: async () => ({}), forget: async () => {}, keep: async () => {}, where: () => 'nowhere' },
    connect: async () => new FakeTransport({ answer: c.answer }),
  });
  assert.equal(report.error, undefined, JSON.stringify(report.error));
  assert.deepEqual(report.notes, ['not on this release: a thing', 'credentials: from a fake source']);
  assert.match(formatHost(report), /\n {2}note {5}not on this release: a thing\n {2}note {5}credentials: from a fake source\n/);
});
