// The tear-down playbook on a real lab controller, through the same engine: the plan first (nothing
// removed without --yes), then everything the Glance playbook made is gone (Keystone, MariaDB, dpkg,
// /etc/glance, the journal, the local secrets) while Keystone and MariaDB keep working; a second
// destroy has nothing to do; apply installs from scratch again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, labSsh, explain, useLab, keystoneToken, type CliResult, GLANCE_DEPS } from './helpers.ts';
import type { HostReport } from '../../src/engine/report-model.ts';

const LAB = 't-dst';
const fixture = useLab(LAB, GLANCE_DEPS);
const env = fixture.env;

async function cli(args: string[], timeoutMs = 400_000): Promise<CliResult & { report?: HostReport }> {
  const r = await runCli([...args, '--lab', LAB, '--json'], { env, timeoutMs });
  let report: HostReport | undefined;
  try {
    report = (JSON.parse(r.stdout) as { hosts: HostReport[] }).hosts[0];
  } catch {
    /* not JSON: the assertion that follows shows the output */
  }
  return { ...r, report };
}

async function sh(command: string): Promise<string> {
  const r = await labSsh(fixture.lab(), command);
  assert.equal(r.code, 0, explain(command, r));
  return r.stdout;
}

/** GET on the lab's Keystone with an admin token: the named list. */
async function keystoneList(pathAndQuery: string, key: string): Promise<{ name?: string; id: string }[]> {
  const { token } = await keystoneToken(fixture.lab());
  assert.ok(token, 'an admin token: Keystone still works');
  const res = await fetch(`http://${fixture.lab().address}:5000/v3${pathAndQuery}`, { headers: { 'x-auth-token': token }, signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200);
  return ((await res.json()) as Record<string, { name?: string; id: string }[]>)[key] ?? [];
}

/** Every trace of Glance on the lab, as lines; [] when there is none. */
async function traces(): Promise<string[]> {
  const left: string[] = [];
  for (const u of await keystoneList('/users?name=glance', 'users')) left.push(`keystone user ${u.id}`);
  for (const s of await keystoneList('/services?type=image', 'services')) left.push(`keystone service ${s.id}`);
  const services = new Set((await keystoneList('/services', 'services')).map((s) => s.id));
  for (const e of await keystoneList('/endpoints', 'endpoints') as { id: string; service_id?: string }[]) {
    if (!services.has(e.service_id ?? '')) left.push(`keystone endpoint ${e.id} of a service that is gone`);
  }
  const sql = (await sh("mysql -N -e \"SELECT CONCAT('database ', SCHEMA_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'glance' UNION ALL SELECT CONCAT('mysql user ', User, '@', Host) FROM mysql.user WHERE User = 'glance'\"")).trim();
  if (sql) left.push(...sql.split('\n'));
  const dpkg = (await sh("dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n' 'glance*' 'python3-glance' 2>/dev/null | awk '$2 != \"un\"' || true")).trim();
  if (dpkg) left.push(...dpkg.split('\n').map((l) => `dpkg ${l}`));
  const files = (await sh('for p in /etc/glance /var/lib/install-glance; do [ -e "$p" ] && echo "$p"; done; true')).trim();
  if (files) left.push(...files.split('\n').map((p) => `path ${p}`));
  return left;
}

const secretsFile = () => path.join(env.INSTALL_GLANCE_SECRETS!, `${LAB}.json`);

test('apply installs Glance (the thing to tear down)', async () => {
  const r = await cli(['apply']);
  assert.equal(r.code, 0, explain('apply', r));
  assert.ok((await traces()).length >= 8, 'Glance is there');
  assert.ok(fs.existsSync(secretsFile()));
});

test('destroy without --yes, not on a terminal: shows what it would remove, removes nothing, exit 2', async () => {
  const before = await traces();
  const r = await cli(['destroy']);
  assert.equal(r.code, 2, explain('destroy without --yes', r));
  assert.match(r.stderr, /nothing was removed: run again with --yes/);
  const planned = (r.report?.resources ?? []).filter((x) => x.status === 'pending').map((x) => `${x.kind} ${x.id}`);
  for (const want of ['keystone-user glance', 'keystone-service glance (image)', 'keystone-endpoint image public/internal/admin', 'mysql-database glance', 'mysql-user glance@%', 'apt-package glance', 'path /etc/glance']) {
    assert.ok(planned.includes(want), `${want} in the plan: ${planned.join(', ')}`);
  }
  assert.deepEqual(await traces(), before, 'nothing removed');
});

test('destroy --yes removes everything Glance had, keeps Keystone and MariaDB working, forgets the secrets', async () => {
  const r = await cli(['destroy', '--yes']);
  assert.equal(r.code, 0, explain('destroy --yes', r));
  assert.equal(r.report?.failed, 0);
  // Each change proven by reading it again.
  for (const x of r.report!.resources.filter((x) => x.status === 'changed')) assert.equal(x.after?.action, 'none', `${x.kind} ${x.id} read again`);
  // A library other packages need (python3-glanceclient: python3-openstackclient, so keystone) is kept, and said so.
  const apt = r.report!.resources.find((x) => x.kind === 'apt-package')!;
  assert.match(apt.why, /kept: python3-glanceclient \(purging it would also remove .*keystone/);
  assert.deepEqual(await traces(), [], 'nothing of Glance is left');
  assert.match(await sh('/etc/init.d/keystone status; true'), /running/);
  assert.equal((await sh("mysql -N -e 'SELECT 1'")).trim(), '1');
  assert.ok(!fs.existsSync(secretsFile()), 'the local secrets file is gone');
});

test('a second destroy has nothing to do', async () => {
  const r = await cli(['destroy']);
  assert.equal(r.code, 0, explain('destroy again', r));
  assert.equal(r.report?.changed, 0);
});

test('apply after destroy installs from scratch again, and Glance works', async () => {
  const r = await cli(['apply']);
  assert.equal(r.code, 0, explain('apply after destroy', r));
  assert.ok((r.report?.changed ?? 0) >= 10, `changed=${r.report?.changed}`);
  assert.equal(r.report?.verify?.kind, 'upload');
  const again = await cli(['plan']);
  assert.equal(again.code, 0, explain('plan after the re-install', again));
});
