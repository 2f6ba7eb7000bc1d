// Juno-era keys on a current release (issue 12, item 3), on a real bookworm lab: a controller whose
// operator moved glance-api.conf's [keystone_authtoken] over from the Juno guide by hand (auth_uri,
// identity_uri, admin_*) answers every request 401; `plan` says why in one line with the masked diff,
// `apply` puts the current keys back, restarts glance-api and its closing upload works; `plan` is then clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { labCliJson, labShOk, explain, useLab, keystoneToken, poll, assertPlanKept, assertEmptyPlan, GLANCE_DEPS } from './helpers.ts';
import { JUNO_AUTHTOKEN } from '../../playbooks/glance/profiles.ts';

const LAB = 'vi-juno';
const fixture = useLab(LAB, GLANCE_DEPS);
const { env, tmp } = fixture;
const FILE = '/etc/glance/glance-api.conf';

const cli = (args: string[], e = env) => labCliJson(LAB, args, { env: e, timeoutMs: 600_000 });
const sh = (command: string) => labShOk(fixture.lab(), command);

/**
 * The Juno guide's section (its step 5, "Edit the [keystone_authtoken] section"), written over the current
 * one as an operator moving the file by hand would: every active key of the section goes, the guide's keys
 * come in with the password the file held. awk reads the file twice (the password is never on a command line).
 */
const JUNO_BY_HAND = String.raw`set -e
f=${FILE}
awk '
  NR == FNR { if (/^\[/) s = ($0 == "[keystone_authtoken]"); else if (s && /^password *=/) { sub(/^password *= */, ""); pass = $0 }; next }
  /^\[/ { s = ($0 == "[keystone_authtoken]"); print
          if (s) { print "auth_uri = http://controller:5000/v2.0"; print "identity_uri = http://controller:35357"
                   print "admin_tenant_name = service"; print "admin_user = glance"; print "admin_password = " pass }
          next }
  s && /^[^#;[:space:]]/ { next }
  { print }' "$f" "$f" > "$f.juno"
cat "$f.juno" > "$f" && rm "$f.juno"
service glance-api restart >/dev/null 2>&1 </dev/null`;

/** An authenticated image list straight to glance-api from this machine: its HTTP status. */
async function imageListStatus(): Promise<number> {
  const { token } = await keystoneToken(fixture.lab());
  assert.ok(token, 'the admin gets a token');
  const res = await fetch(`http://${fixture.lab().address}:9292/v2/images`, { headers: { 'x-auth-token': token }, signal: AbortSignal.timeout(15_000) });
  await res.arrayBuffer();
  return res.status;
}

/** glance-api answers its versions document again after a restart. */
const answers = () => poll(async () => {
  try {
    const res = await fetch(`http://${fixture.lab().address}:9292/`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 300 || res.status === 200;
  } catch {
    return false;
  }
}, 120_000, 500);

test('Juno-era keystone_authtoken keys on bookworm: 401s, named in the plan, replaced by apply, the API works again', async () => {
  const fresh = await cli(['apply']);
  assert.equal(fresh.code, 0, explain('fresh apply', fresh));
  assert.equal(await imageListStatus(), 200, 'the API works after a fresh apply');
  const password = (await sh(`sed -n 's/^password = //p' ${FILE}`)).trim();
  assert.ok(password.length >= 8, 'the glance password is in the file');

  await sh(JUNO_BY_HAND);
  const section = await sh(`sed -n '/^\\[keystone_authtoken\\]/,/^\\[/p' ${FILE} | grep -v '^[#;]' | grep -v '^$'`);
  assert.match(section, /^auth_uri = http:\/\/controller:5000\/v2\.0$/m);
  assert.match(section, /^admin_password = /m);
  assert.doesNotMatch(section, /^(password|auth_url|auth_type|username) =/m, section);

  // The API fails: keystonemiddleware reads the old keys, cannot validate any token, refuses every request.
  assert.ok(await answers(), 'glance-api answers after the restart');
  assert.equal(await imageListStatus(), 401);
  const broken = await cli(['verify']);
  assert.equal(broken.code, 1, explain('verify on the Juno-keyed file', broken));
  assert.match(broken.report?.error?.message ?? '', /answered 401/, explain('the 401 named', broken));
  assert.match(broken.report?.error?.hint ?? '', /\[keystone_authtoken\]/);

  // plan: exit 2, the one line, the masked diff, no password anywhere.
  const plan = await cli(['plan']);
  assert.equal(plan.code, 2, explain('plan', plan));
  const ini = plan.report?.resources.find((r) => r.kind === 'ini-file' && r.id === FILE);
  assert.equal(ini?.action, 'update');
  assert.equal(ini?.why, JUNO_AUTHTOKEN.why);
  assert.match(plan.stderr, new RegExp(`update ini-file ${FILE} — Juno-era keystone_authtoken keys \\(auth_uri, identity_uri, admin_\\*\\)`), explain('the plan line', plan));
  for (const k of JUNO_AUTHTOKEN.keys) assert.ok(ini?.detail?.some((l) => l.startsWith(`-${k} = `)), `${k} removed in the diff`);
  assert.ok(ini?.detail?.includes('-admin_password = ***') && ini.detail.includes('+password = ***'), ini?.detail?.join('\n'));
  assert.ok(ini?.detail?.includes('+auth_type = password'));
  assert.equal(plan.report?.resources.filter((r) => r.action !== 'none').length, 1, 'only the file changes');
  assert.deepEqual(plan.report?.handlers.map((h) => h.name), ['restart-glance-api']);
  assert.ok(!(plan.stdout + plan.stderr).includes(password), 'no password in the plan');

  // From a workstation that never ran here, the password is adopted from the Juno key, not replaced.
  const elsewhere = { ...env, INSTALL_GLANCE_SECRETS: path.join(tmp, 'elsewhere') };
  const planElsewhere = await cli(['plan'], elsewhere);
  assert.equal(planElsewhere.code, 2, explain('plan from another workstation', planElsewhere));
  assert.ok(planElsewhere.report?.notes.some((n) => /^GLANCE_PASS adopted from the controller \(\/etc\/glance\/glance-api\.conf \[keystone_authtoken\] admin_password; Keystone gives glance a token with it\)/.test(n)),
    explain('adopted from admin_password', planElsewhere));
  assert.equal(planElsewhere.report?.resources.find((r) => r.kind === 'keystone-user')?.action, 'none', 'the Keystone password stays');
  fs.rmSync(path.join(tmp, 'elsewhere'), { recursive: true, force: true });

  // apply: the file mended, glance-api restarted, the closing upload works.
  const mend = await cli(['apply']);
  assert.equal(mend.code, 0, explain('apply', mend));
  const changed = mend.report?.resources.filter((r) => r.status === 'changed');
  assert.deepEqual(changed?.map((r) => `${r.kind} ${r.id}`), [`ini-file ${FILE}`]);
  assert.equal(changed?.[0]?.why, JUNO_AUTHTOKEN.why);
  assert.equal(changed?.[0]?.after?.action, 'none', 'proven after apply');
  assert.deepEqual(mend.report?.handlers.map((h) => `${h.name} ${h.status}`), ['restart-glance-api changed']);
  assert.equal(mend.report?.verify?.kind, 'upload');
  assert.equal(mend.report?.verify?.ok, true);
  assert.equal(await imageListStatus(), 200, 'the API works again');
  const after = await sh(`sed -n '/^\\[keystone_authtoken\\]/,/^\\[/p' ${FILE} | grep -v '^[#;]' | grep -v '^$'`);
  assert.doesNotMatch(after, /^(auth_uri|identity_uri|admin_user|admin_password|admin_tenant_name) *=/m, after);
  assert.match(after, /^www_authenticate_uri = http:\/\/controller:5000$/m);

  assertPlanKept(plan.report!, mend.report!);
  assertEmptyPlan(await cli(['plan']), 'plan after the repair');
});
