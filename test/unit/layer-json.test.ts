// The API layer: a secret reaches Keystone only inside a JSON body (api-call.ts puts its value there and
// nowhere else), and the body, read as Keystone's json.loads reads it, holds the value exactly, whatever it
// holds; the local secrets file is JSON too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonWithSecrets } from '../../src/clients/api-call.ts';
import { Secret } from '../../src/secret.ts';
import { hostile } from './hostile-values.ts';

for (const v of [...hostile, '日本 € 😀', '</script>"\\u0000', '\\"}]}']) {
  test(JSON.stringify(v), () => {
    const body = jsonWithSecrets({ auth: { identity: { password: { user: { name: 'glance', password: new Secret(v) } } } } });
    assert.equal((JSON.parse(body) as { auth: { identity: { password: { user: { password: string } } } } }).auth.identity.password.user.password, v);
    // Valid UTF-8 on the wire: what Keystone decodes is the same text.
    assert.equal(Buffer.from(body, 'utf8').toString('utf8'), body);
  });
}
