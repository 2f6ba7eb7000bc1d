// The running state of a service on Ubuntu 14.04, whose upstart jobs leave no pid file: `initctl status`
// as upstart 1.12 prints it, parsed into a pid; and the one fact script that asks upstart on an upstart
// host and reads pid files elsewhere. Run by sh here, against a made-up /sbin and /etc/init it cannot
// have, the script is checked by its text; on the trusty-shaped lab it runs for real (test/lab/juno.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseUpstartStatus, pidFact } from '../../src/resources/service.ts';
import { profiles } from '../../playbooks/glance/profiles.ts';

describe('parseUpstartStatus', () => {
  const cases: [string, number | undefined][] = [
    ['glance-api start/running, process 1234\n', 1234],
    ['glance-api start/running, process 1234', 1234],
    // Passing states of a start or restart: the goal is start and there is a main process.
    ['glance-api start/spawned, process 77\n', 77],
    ['glance-api start/post-start, process 77\n', 77],
    ['glance-api stop/waiting\n', undefined],
    // Stopping: the goal is stop, whatever process still runs.
    ['glance-api stop/killed, process 1234\n', undefined],
    ['glance-api stop/pre-stop, process 1234\n', undefined],
    ['glance-api start/pre-start\n', undefined],
    ['', undefined],
    ['status: Unknown job: glance-api\n', undefined],
    // A job with instances (not Glance's: its jobs have none) names each instance: not read as this job.
    ['glance-api (a) stop/waiting\nglance-api (b) start/running, process 9\n', undefined],
  ];
  for (const [text, want] of cases) test(`${JSON.stringify(text)} → ${want ?? 'not running'}`, () => assert.equal(parseUpstartStatus(text), want));
});

describe('pidFact: upstart where the host runs it and has the job, pid files elsewhere', () => {
  const [registry, api] = profiles.juno.services;
  const juno = pidFact(api!.name, api!.pidfiles);
  const bookworm = pidFact('glance-api', profiles.bookworm.services[0]!.pidfiles);
  test('the script asks /sbin/initctl only when /etc/init/NAME.conf exists and initctl is upstart\'s', () => {
    assert.match(juno.script, /^if \[ -r '\/etc\/init\/glance-api\.conf' \] && \/sbin\/initctl version 2>\/dev\/null \| grep -q upstart; then$/m);
    assert.match(juno.script, /^ {2}echo 'upstart job'; \/sbin\/initctl status 'glance-api'$/m);
    assert.match(bookworm.script, /for f in '\/run\/glance\/glance-api\.pid' '\/var\/run\/glance\/glance-api\.pid'; do/);
  });
  test('parsed: upstart\'s answer after the mark, a bare pid otherwise', () => {
    assert.equal(juno.parse('upstart job\nglance-api start/running, process 4321\n'), 4321);
    assert.equal(juno.parse('upstart job\nglance-api stop/waiting\n'), undefined);
    assert.equal(juno.parse('upstart job'), undefined);
    assert.equal(bookworm.parse('2150\n'), 2150);
    assert.equal(bookworm.parse(''), undefined);
    assert.equal(pidFact(registry!.name, registry!.pidfiles).parse('upstart job\nglance-registry start/running, process 12\n'), 12);
  });
  test('on this machine (no upstart): the pid-file branch runs, and a job without pid files is not running', () => {
    // Here /etc/init/glance-api.conf and upstart's initctl do not exist, so the else branch runs.
    assert.equal(juno.parse(execFileSync('sh', ['-c', juno.script], { encoding: 'utf8' })), undefined);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-pidfact-'));
    try {
      const file = path.join(dir, 'x.pid');
      const self = execFileSync('sh', ['-c', `echo $$ >${file}; ${pidFact('x', [file]).script}`], { encoding: 'utf8' });
      assert.match(self, /^\d+\n$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
