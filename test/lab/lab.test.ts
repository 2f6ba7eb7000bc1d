// The lab is real: these tests bring up lab controllers on this machine (root, namespaces, iptables)
// through the CLI, as CI and operators do, and check what the issue promises of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { repoRoot, runCli, run, labUp, labDown, labSsh, readLab, keystoneToken, footprint, leftovers, explain } from './helpers.ts';

/**
 * The first bytes a server sends on host:port, or the error. (Not a bare connect: on some hosts, CI
 * sandboxes among them, the default route leads to a proxy that accepts any TCP connection.)
 */
function greeting(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 3000 });
    s.once('data', (d) => { s.destroy(); resolve(d.toString('latin1')); });
    s.once('timeout', () => { s.destroy(); resolve('(timeout)'); });
    s.once('error', (e) => resolve(`(${e.message})`));
  });
}

/** That lab's own sshd, MariaDB and Keystone answer on its address, seen from the host. */
async function assertServices(lab: { name: string; address: string }): Promise<void> {
  assert.match(await greeting(lab.address, 22), /^SSH-2\.0-OpenSSH/, `${lab.name}: no sshd on ${lab.address}:22`);
  assert.match(await greeting(lab.address, 3306), /MariaDB/, `${lab.name}: no MariaDB on ${lab.address}:3306`);
  const res = await fetch(`http://${lab.address}:5000/v3`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { version?: { id?: string } };
  assert.equal(res.status, 200, `${lab.name}: Keystone on ${lab.address}:5000 answered ${res.status}`);
  assert.match(body.version?.id ?? '', /^v3\./, `${lab.name}: not Keystone on ${lab.address}:5000`);
}

/** From inside a lab: "ADDR:PORT open|closed" for each target, probed at once (a dropped SYN takes the 3 s). */
async function probeFrom(lab: { address: string }, targets: string[]): Promise<Record<string, string>> {
  const script = targets
    .map((t) => {
      const [addr, port] = t.split(':');
      return `(if timeout 3 bash -c '</dev/tcp/${addr}/${port}' 2>/dev/null; then echo "${t} open"; else echo "${t} closed"; fi) &`;
    })
    .join('\n') + '\nwait\n';
  const r = await labSsh(lab, 'bash -s', { input: script });
  assert.equal(r.code, 0, explain('probe over ssh', r));
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

async function getent(lab: { address: string }, host: string): Promise<string> {
  const r = await labSsh(lab, `getent hosts ${host} || true`);
  assert.equal(r.code, 0, explain(`getent hosts ${host}`, r));
  return r.stdout.trim().split(/\s+/)[0] ?? '';
}

test('up → SSH answers → Keystone issues a token → down leaves nothing behind', async () => {
  const name = 't-a';
  await labDown(name);
  try {
    const up = await runCli(['lab', 'up', name]);
    assert.equal(up.code, 0, explain('lab up', up));
    const lab = readLab(name);
    assert.ok(lab, 'lab up wrote no record');
    assert.match(up.stdout, new RegExp(`^${name}\\t${lab.address.replace(/\./g, '\\.')}\\tbookworm$`, 'm'));
    assert.match(lab.address, /^10\.213\.\d+\.2$/);

    const ssh = await labSsh(lab, 'hostname; id -u');
    assert.equal(ssh.code, 0, explain('ssh', ssh));
    assert.equal(ssh.stdout, `${name}\n0\n`);
    const cliSsh = await runCli(['lab', 'ssh', name, '--', 'hostname']);
    assert.equal(cliSsh.code, 0, explain('lab ssh', cliSsh));
    assert.equal(cliSsh.stdout.trim(), name);

    const token = await keystoneToken(lab);
    assert.equal(token.status, 201);
    assert.ok(token.token && token.token.length > 20, `no token in X-Subject-Token: ${token.token}`);

    // The leftover detector must see every kind of thing a running lab is made of, or "nothing left" proves nothing.
    const fp = footprint(lab);
    assert.ok(fp.processes.length >= 5, `expected holder, PID 1, sshd, MariaDB, Keystone; found ${JSON.stringify(fp.processes)}`);
    const present = (await leftovers(name, fp)).map((l) => l.split(/[ :(]/)[0]! + (l.startsWith('iptables ') ? ' ' + l.split(/[ :]/)[1] : ''));
    for (const kind of ['dir', 'process', 'namespace', 'mount', 'veth', 'iptables filter', 'iptables nat', 'iptables chain']) {
      assert.ok(present.includes(kind), `a running lab shows no ${kind}: ${JSON.stringify(present)}`);
    }

    const down = await runCli(['lab', 'down', name]);
    assert.equal(down.code, 0, explain('lab down', down));
    assert.deepEqual(await leftovers(name, fp), []);
    const route = await run('ip', ['route', 'get', lab.address]);
    assert.doesNotMatch(route.stdout, /dev igh/, `the host still routes ${lab.address} to a lab link`);
    const list = await runCli(['lab', 'list']);
    assert.doesNotMatch(list.stdout, new RegExp(`^${name} `, 'm'));
  } finally {
    await labDown(name);
  }
});

test('two labs at once cannot reach each other, each answers on its own address, and each /etc/hosts lists the other', async () => {
  const [a, b] = ['t-iso1', 't-iso2'];
  await Promise.all([labDown(a), labDown(b)]);
  try {
    // Two separate `up`s: the first lab must learn of the second after it started.
    const [la] = await labUp([a]);
    const [lb] = await labUp([b]);
    assert.notEqual(la.address, lb.address);

    await Promise.all([la, lb].map(assertServices));

    const ports = [3306, 5000];
    const [fromA, fromB] = await Promise.all([
      probeFrom(la, [...ports.map((p) => `${la.address}:${p}`), ...ports.map((p) => `${lb.address}:${p}`)]),
      probeFrom(lb, [...ports.map((p) => `${lb.address}:${p}`), ...ports.map((p) => `${la.address}:${p}`)]),
    ]);
    for (const p of ports) {
      assert.equal(fromA[`${la.address}:${p}`], 'open', `${a} cannot reach its own ${p}`);
      assert.equal(fromB[`${lb.address}:${p}`], 'open', `${b} cannot reach its own ${p}`);
      assert.equal(fromA[`${lb.address}:${p}`], 'closed', `${a} reaches ${b}'s ${p}`);
      assert.equal(fromB[`${la.address}:${p}`], 'closed', `${b} reaches ${a}'s ${p}`);
    }

    assert.equal(await getent(la, b), lb.address, `${a}'s /etc/hosts does not list ${b}, which came up later`);
    assert.equal(await getent(lb, a), la.address);
    assert.equal(await getent(la, 'controller'), la.address, `"controller" in ${a} is not ${a} itself`);
    assert.equal(await getent(lb, 'controller'), lb.address, `"controller" in ${b} is not ${b} itself`);

    await labDown(b);
    assert.equal(await getent(la, b), '', `${a}'s /etc/hosts still lists ${b} after its down`);
    assert.equal(await getent(la, 'controller'), la.address);
  } finally {
    await Promise.all([labDown(a), labDown(b)]);
  }
});

test('up of an existing name reuses it, even from two `up`s at once; down of an unknown name is a clear error', async () => {
  const [b, c] = ['t-b', 't-c'];
  await Promise.all([labDown(b), labDown(c)]);
  try {
    const [first] = await labUp([b]);
    const again = await runCli(['lab', 'up', b]);
    assert.equal(again.code, 0, explain('second lab up', again));
    assert.match(again.stderr, /reused/);
    assert.equal(again.stdout, `${b}\t${first.address}\tbookworm\n`);
    const second = readLab(b);
    assert.deepEqual(second, first, 'the second up changed the lab record');
    const ssh = await labSsh(first, 'hostname');
    assert.equal(ssh.code, 0, explain('ssh after the second up (same host key?)', ssh));
    assert.equal((await keystoneToken(first)).status, 201);

    // Two processes racing for one new name: one lab, and each `up` returns only once it is ready.
    const racing = await Promise.all([0, 1].map(async () => {
      const r = await runCli(['lab', 'up', c]);
      const rec = readLab(c);
      const ready = r.code === 0 && rec ? (await keystoneToken(rec).catch((e: Error) => ({ status: e.message }))).status : 'no lab';
      return { r, ready };
    }));
    for (const { r, ready } of racing) {
      assert.equal(r.code, 0, explain('racing lab up', r));
      assert.equal(ready, 201, `lab up returned before ${c} was ready (${r.stderr.trim()})`);
    }
    const lc = readLab(c);
    assert.ok(lc);
    for (const { r } of racing) assert.equal(r.stdout, `${c}\t${lc.address}\tbookworm\n`);
    const pid1s = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() === `install-glance-lab ${c}`;
      } catch {
        return false;
      }
    });
    assert.deepEqual(pid1s, [String(lc.nsPid)], 'not exactly one lab process for the name');
    assert.equal((await labSsh(lc, 'hostname')).stdout, `${c}\n`);
    assert.equal((await keystoneToken(lc)).status, 201);

    const unknown = await runCli(['lab', 'down', 't-nosuch']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /t-nosuch/);
    assert.doesNotMatch(unknown.stderr, /\n\s+at /, 'a stack trace instead of a message');

    const down = await runCli(['lab', 'down', b]);
    assert.equal(down.code, 0, explain('lab down', down));
    const twice = await runCli(['lab', 'down', b]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, new RegExp(`no lab named ${b}\\b`));
  } finally {
    await Promise.all([labDown(b), labDown(c)]);
  }
});

test('a missing tool is a clear error before anything is changed', async () => {
  const name = 't-pre';
  await labDown(name);
  // A PATH with everything this one has, except debootstrap.
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-path-'));
  try {
    for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
      let entries: string[];
      try {
        entries = fs.readdirSync(dir);
      } catch {
        continue;
      }
      for (const e of entries) {
        if (e === 'debootstrap' || fs.existsSync(path.join(bin, e))) continue;
        fs.symlinkSync(path.join(dir, e), path.join(bin, e));
      }
    }
    assert.ok(fs.existsSync(path.join(bin, 'iptables')) && !fs.existsSync(path.join(bin, 'debootstrap')));

    const r = await runCli(['lab', 'up', name], { env: { ...process.env, PATH: bin } });
    assert.equal(r.code, 1, explain('lab up without debootstrap', r));
    assert.match(r.stderr, /missing tools for the lab: debootstrap\b/);
    assert.match(r.stderr, /apt-get install -y debootstrap/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace instead of a message');
    assert.deepEqual(await leftovers(name), []);
    assert.doesNotMatch((await runCliOk(['lab', 'list'])).stdout, new RegExp(`^${name} `, 'm'));
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
    await labDown(name);
  }
});

async function runCliOk(args: string[]) {
  const r = await runCli(args);
  assert.equal(r.code, 0, explain(args.join(' '), r));
  return r;
}

test('a snapshot rebuild prunes older snapshots of the release, except those a lab stands on (directly or under a variant\'s layer), and never a variant\'s', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-prune-'));
  const [cache, state] = [path.join(tmp, 'cache'), path.join(tmp, 'state')];
  const snaps = path.join(cache, 'snapshots');
  for (const d of ['bookworm-new', 'bookworm-byrecord', 'bookworm-bylowers', 'bookworm-bymount', 'bookworm-unused', 'bullseye-other']) {
    fs.mkdirSync(path.join(snaps, d, 'rootfs', 'etc'), { recursive: true });
  }
  for (const d of ['bookworm.trusty-aaa', 'bookworm.tls-bbb']) fs.mkdirSync(path.join(snaps, d, 'layer', 'etc'), { recursive: true });
  fs.mkdirSync(path.join(state, 'labs', 't-gc'), { recursive: true });
  fs.writeFileSync(path.join(state, 'labs', 't-gc', 'lab.json'), JSON.stringify({ name: 't-gc', snapshot: path.join(snaps, 'bookworm-byrecord', 'rootfs') }));
  // A variant's lab: its record names the layer, and the base under it in `lowers`.
  fs.mkdirSync(path.join(state, 'labs', 't-gc2'), { recursive: true });
  fs.writeFileSync(path.join(state, 'labs', 't-gc2', 'lab.json'), JSON.stringify({ name: 't-gc2', snapshot: path.join(snaps, 'bookworm.trusty-aaa', 'layer'),
    lowers: [path.join(snaps, 'bookworm.trusty-aaa', 'layer'), path.join(snaps, 'bookworm-bylowers', 'rootfs')] }));
  // An overlay on a variant's layer over bookworm-bymount in a mount namespace of its own, as a lab of another state root has.
  const m = path.join(tmp, 'mnt');
  for (const d of ['upper', 'work', 'root']) fs.mkdirSync(path.join(m, d), { recursive: true });
  const holder = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c',
    `mount -t overlay overlay -o lowerdir=${snaps}/bookworm.tls-bbb/layer:${snaps}/bookworm-bymount/rootfs,upperdir=${m}/upper,workdir=${m}/work ${m}/root && echo mounted && exec sleep 120`],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const mounted = await new Promise<boolean>((resolve) => {
      holder.stdout.on('data', (d: Buffer) => { if (d.toString().includes('mounted')) resolve(true); });
      holder.on('exit', () => resolve(false));
    });
    assert.ok(mounted, 'could not mount the test overlay');
    const prune = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
      `const { pruneSnapshots } = await import(${JSON.stringify(path.join(repoRoot, 'src', 'lab', 'prune.ts'))});
       pruneSnapshots('bookworm', 'bookworm-new', (l) => console.log(l));`],
    { env: { ...process.env, INSTALL_GLANCE_CACHE: cache, INSTALL_GLANCE_STATE: state } });
    assert.equal(prune.code, 0, explain('pruneSnapshots', prune));
    assert.deepEqual(fs.readdirSync(snaps).sort(), ['bookworm-bylowers', 'bookworm-bymount', 'bookworm-byrecord', 'bookworm-new', 'bookworm.tls-bbb', 'bookworm.trusty-aaa', 'bullseye-other']);
    assert.match(prune.stdout, /kept the older bookworm-byrecord, still used by lab t-gc/);
    assert.match(prune.stdout, /kept the older bookworm-bymount, still used by a mounted overlay/);
    assert.match(prune.stdout, /kept the older bookworm-bylowers, still used by lab t-gc2/);
  } finally {
    holder.kill('SIGKILL');
    await new Promise((r) => (holder.exitCode !== null || holder.signalCode !== null ? r(null) : holder.once('exit', r)));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('a lab behind a bastion: only the bastion opens its sshd, the host opens nothing but Keystone, lab ssh goes through the bastion, down leaves none of its rules', async () => {
  const [b, c] = ['ssh-t-bast', 'ssh-t-behind'];
  await Promise.all([labDown(c), labDown(b)]);
  try {
    const notUp = await runCli(['lab', 'up', c, '--behind', 'ssh-t-nosuch']);
    assert.equal(notUp.code, 1, explain('--behind a lab that is not running', notUp));
    assert.match(notUp.stderr, /the bastion lab ssh-t-nosuch \(--behind\) is not running/);
    assert.deepEqual(await leftovers(c), [], 'a refused up left something');

    const [lb] = await labUp([b]);
    const [lc] = await labUp([c], ['--behind', b]);
    assert.deepEqual(lc.behind, { name: b, address: lb.address });

    // From the host: sshd and MariaDB dropped, Keystone open (the builder's readiness check).
    assert.equal(await greeting(lc.address, 22), '(timeout)', 'the host reaches the sshd of a lab behind a bastion');
    assert.equal(await greeting(lc.address, 3306), '(timeout)');
    assert.equal((await keystoneToken(lc)).status, 201);
    // From the bastion: sshd only.
    const fromBastion = await probeFrom(lb, [`${lc.address}:22`, `${lc.address}:3306`, `${lc.address}:5000`]);
    assert.deepEqual(fromBastion, { [`${lc.address}:22`]: 'open', [`${lc.address}:3306`]: 'closed', [`${lc.address}:5000`]: 'closed' });

    const viaBastion = await runCli(['lab', 'ssh', c, '--', 'hostname']);
    assert.equal(viaBastion.code, 0, explain('lab ssh through the bastion', viaBastion));
    assert.equal(viaBastion.stdout.trim(), c);

    const again = await runCli(['lab', 'up', c]);
    assert.equal(again.code, 1, explain('up again without --behind', again));
    assert.match(again.stderr, new RegExp(`lab ${c} is already up, behind ${b}`));

    // The leftover detector must see the rules that put it behind, or "nothing left" proves nothing.
    const fp = footprint(lc);
    const rules = (await leftovers(c, fp)).filter((l) => l.startsWith('iptables filter: '));
    assert.ok(rules.some((l) => l.includes(`-A FORWARD -s ${lb.address}/32 -d ${lc.address}/32`)), `no bastion rule among ${JSON.stringify(rules)}`);
    assert.ok(rules.some((l) => /-A OUTPUT -o igh\d+ .*-j DROP/.test(l)), `no host-drop rule among ${JSON.stringify(rules)}`);

    const down = await runCli(['lab', 'down', c]);
    assert.equal(down.code, 0, explain('lab down', down));
    assert.deepEqual(await leftovers(c, fp), []);
    const fpb = footprint(lb);
    await labDown(b);
    assert.deepEqual(await leftovers(b, fpb), []);
  } finally {
    await labDown(c);
    await labDown(b);
  }
});
