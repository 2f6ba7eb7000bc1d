// One run at a time per controller. Two fresh applies started together end with one glance user, one
// image service, three endpoints and a converged controller; a second apply waits for the first, naming
// it, or with --no-wait is refused at once; and the lock goes with its holder's connection: a SIGKILLed
// run frees it at once, a run whose link went dead frees it within the heartbeat's silence (20 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, labSsh, explain, useLab, GLANCE_DEPS } from './helpers.ts';
import { startCli, waitFor, runLockHolder, withRules, keystoneGet, hostOf, seconds, errorSaid, lineSaid } from './sa-helpers.ts';

const LAB = 'sa-lock';
const fixture = useLab(LAB, GLANCE_DEPS);
const { env } = fixture;

/** A drift that makes apply write the config and restart glance-api: a run long enough to race. */
async function drift(): Promise<void> {
  const r = await labSsh(fixture.lab(), "sed -i 's/^region_name = RegionOne$/region_name = regionOne/' /etc/glance/glance-api.conf");
  assert.equal(r.code, 0, explain('drift', r));
}

/** An apply in the background, once it holds the lab's run lock (the lock file names its pid). */
async function holdingApply(): Promise<ReturnType<typeof startCli>> {
  const run = startCli(['apply', '--lab', LAB], env);
  await waitFor('the apply holds the run lock', async () => (await runLockHolder(fixture.lab())).includes(`(pid ${run.child.pid}, install-glance apply)`) || run.child.exitCode !== null, 120_000, 50);
  assert.equal(run.child.exitCode, null, `the apply ended before it could be raced:\n${run.stderr}`);
  return run;
}

test('two fresh applies started together: one glance user, one image service, three endpoints, converged', async (t) => {
  const a = startCli(['apply', '--lab', LAB, '--json'], env);
  const b = startCli(['apply', '--lab', LAB, '--json'], env);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  assert.equal(ra.code, 0, explain('first apply', ra));
  assert.equal(rb.code, 0, explain('second apply', rb));
  // One of them waited for the other, and said for whom.
  const waited = [ra, rb].filter((r) => /waiting for the run lock \/var\/lib\/install-glance\/run\.lock: another run holds it: \S+@\S+ \(pid \d+, install-glance apply\) from 10\.213\.\d+\.1 port \d+, for \d+ s/.test(r.stderr));
  assert.equal(waited.length, 1, `exactly one waited:\n${ra.stderr}\n---\n${rb.stderr}`);
  const changed = [ra, rb].map((r) => hostOf(r).resources.filter((x) => x.status === 'changed').length).sort();
  assert.equal(changed[0], 0, 'the one that waited found everything done');
  t.diagnostic(`two fresh applies: ${seconds(ra.ended - a.started)} and ${seconds(rb.ended - b.started)}`);
  t.diagnostic(`the one that waited saw: ${lineSaid(waited[0]!.stderr, /waiting for the run lock/)} | ${lineSaid(waited[0]!.stderr, /run lock taken after/)}`);

  const lab = fixture.lab();
  const users = await keystoneGet<{ users: unknown[] }>(lab, '/users?name=glance');
  assert.equal(users.users.length, 1, 'one glance user');
  const services = await keystoneGet<{ services: { id: string; name: string }[] }>(lab, '/services?type=image');
  assert.equal(services.services.length, 1, 'one image service');
  const endpoints = await keystoneGet<{ endpoints: { interface: string }[] }>(lab, `/endpoints?service_id=${services.services[0]!.id}`);
  assert.deepEqual(endpoints.endpoints.map((e) => e.interface).sort(), ['admin', 'internal', 'public']);
  const plan = await runCli(['plan', '--lab', LAB], { env });
  assert.equal(plan.code, 0, explain('plan after both', plan));
});

test('while one apply holds the lock: --no-wait is refused at once, naming it; without it, the second waits and then runs', async (t) => {
  await drift();
  const first = await holdingApply();
  const t0 = Date.now();
  const refused = await runCli(['apply', '--lab', LAB, '--no-wait'], { env });
  const refusedIn = Date.now() - t0;
  assert.equal(refused.code, 1, explain('apply --no-wait', refused));
  assert.match(refused.stdout, new RegExp(`error at run lock: another run holds the run lock /var/lib/install-glance/run\\.lock on 10\\.213\\.\\d+\\.2: \\S+ \\(pid ${first.child.pid}, install-glance apply\\) from 10\\.213\\.\\d+\\.1 port \\d+, for \\d+ s`), explain('names the holder', refused));
  assert.match(refused.stdout, /what to do: wait for it to finish, or run again without --no-wait/);
  assert.ok(refusedIn < 10_000, `refused in ${seconds(refusedIn)}`);
  t.diagnostic(`--no-wait refused in ${seconds(refusedIn)}: ${errorSaid(refused.stdout)}`);

  const second = await runCli(['apply', '--lab', LAB], { env, timeoutMs: 600_000 });
  const r1 = await first.done;
  assert.equal(r1.code, 0, explain('first', r1));
  assert.equal(second.code, 0, explain('second', second));
  if (second.stderr.includes('waiting for the run lock')) {
    assert.match(second.stderr, new RegExp(`another run holds it: \\S+ \\(pid ${first.child.pid}, install-glance apply\\)`));
    assert.match(second.stderr, /run lock taken after [\d.]+ s/);
    t.diagnostic(`the second (waiting) saw: ${lineSaid(second.stderr, /waiting for the run lock/)} | ${lineSaid(second.stderr, /run lock taken after/)} | ${lineSaid(second.stdout, /note +waited/)}`);
  }
  assert.match(second.stdout, /changed=0 failed=0/, 'the second found the first\'s work done');
});

test('a SIGKILLed run frees the lock at once (its connection goes with it); what it left running ends first; the next run finishes its restart', async (t) => {
  await drift();
  const victim = await holdingApply();
  // Once the new file is written, the restart is owed: kill the run there, the harshest moment. Its
  // restart (stop, wait for the port, start) goes on on the controller: sshd tells a command without a
  // terminal nothing when its connection goes.
  await waitFor('the restart starts', () => victim.stderr.includes('restart glance-api') || victim.child.exitCode !== null, 120_000, 20);
  victim.child.kill('SIGKILL');
  await victim.done;
  const t0 = Date.now();
  const next = await runCli(['apply', '--lab', LAB, '--json'], { env, timeoutMs: 600_000 });
  t.diagnostic(`after SIGKILL: the next run took ${seconds(Date.now() - t0)}`);
  assert.equal(next.code, 0, explain('the next apply, right after the kill', next));
  assert.doesNotMatch(next.stderr, /waiting for the run lock/, 'the lock was free at once');
  // Whatever the dead run's restart still had to do was done before this run read anything: a restart of
  // its own beside it would have its pid file removed by the dead one's stop (CI, 2026-11-27).
  const waited = next.stderr.split('\n').find((l) => /waiting for what an earlier run started/.test(l))?.trim();
  if (waited) {
    assert.match(waited, /left running: pid \d+ \(restart glance-api\)/);
    assert.match(next.stderr, /what the earlier run left running ended after [\d.]+ s/);
  }
  t.diagnostic(waited ? `it waited first: ${waited} | ${lineSaid(next.stderr, /left running ended after/)}` : 'the dead run\'s restart had ended before it asked');
  assert.deepEqual(hostOf(next).handlers.map((h) => `${h.name} ${h.status}`), ['restart-glance-api changed'], 'the owed restart is done');
  const plan = await runCli(['plan', '--lab', LAB], { env });
  assert.equal(plan.code, 0, explain('plan after', plan));
});

test('a run whose link goes dead frees the lock within the heartbeat\'s silence; it fails naming the link', async (t) => {
  await drift();
  const lab = fixture.lab();
  const victim = await holdingApply();
  const port = /from \S+ port (\d+)/.exec(await runLockHolder(lab))?.[1];
  assert.ok(port, 'the holder\'s client port is recorded');
  // Only this run's connection goes dead: its packets, both ways, dropped on this host.
  const comment = ['-m', 'comment', '--comment', `install-glance test ${LAB} dead link`];
  const rules = [
    ['OUTPUT', '-d', lab.address, '-p', 'tcp', '--sport', port, ...comment, '-j', 'DROP'],
    ['INPUT', '-s', lab.address, '-p', 'tcp', '--dport', port, ...comment, '-j', 'DROP'],
  ];
  await withRules(rules, async () => {
    const cut = Date.now();
    const next = await runCli(['apply', '--lab', LAB], { env, timeoutMs: 600_000 });
    const took = Date.now() - cut;
    assert.equal(next.code, 0, explain('the next apply, while the first one\'s link is dead', next));
    assert.match(next.stderr, new RegExp(`waiting for the run lock .*\\(pid ${victim.child.pid}, install-glance apply\\) from \\S+ port ${port}`), explain('it waited, naming the dead run', next));
    const taken = /run lock taken after ([\d.]+) s/.exec(next.stderr)?.[1];
    assert.ok(taken && Number(taken) < 30, `the lock came free after ${taken} s`);
    t.diagnostic(`dead link: the lock came free ${taken} s after the next run asked (${seconds(took)} for its whole apply)`);
    const dead = await victim.done;
    assert.equal(dead.code, 1, explain('the run with the dead link', dead));
    assert.match(dead.stdout, /the SSH connection to 10\.213\.\d+\.2 was lost/);
    assert.ok(dead.ended - cut < 30_000, `the dead run ended ${seconds(dead.ended - cut)} after its link went`);
    t.diagnostic(`the dead run ended ${seconds(dead.ended - cut)} after its link went: ${errorSaid(dead.stdout)}`);
  });
  const plan = await runCli(['plan', '--lab', LAB], { env });
  assert.equal(plan.code, 0, explain('plan after', plan));
});
