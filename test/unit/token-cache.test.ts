import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileTokenCache, tokenCacheDir, type TokenKey } from '../../src/clients/token-cache.ts';
import { Secret } from '../../src/secret.ts';

const key = (over: Partial<TokenKey> = {}): TokenKey => ({ target: 'c1', authUrl: 'http://controller:5000/v3', user: 'admin', userDomain: 'Default', project: 'admin', projectDomain: 'Default', password: new Secret('pw'), ...over });
const at = (ms: number) => new Date(ms).toISOString();

test('a kept token is found only by the same credentials on the same controller, and only while it has time left', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-tc-'));
  let now = Date.parse('2026-11-26T12:00:00Z');
  const c = fileTokenCache(dir, () => now);
  try {
    c.put(key(), { token: 'T1', expiresAt: at(now + 3_600_000) });
    assert.equal(c.get(key()), 'T1');
    assert.equal(c.get(key({ password: new Secret('other') })), undefined, 'another password');
    assert.equal(c.get(key({ target: 'c2' })), undefined, 'another controller');
    assert.equal(c.get(key({ project: 'service' })), undefined, 'another scope');
    now += 3_600_000 - 5 * 60_000;
    assert.equal(c.get(key()), undefined, 'five minutes left: less than the margin a run needs');
    assert.equal(c.get(key(), 60_000), 'T1');
    c.put(key({ user: 'glance' }), { token: 'T2', expiresAt: at(now + 3_600_000) });
    now += 10 * 60_000;
    c.put(key({ user: 'other' }), { token: 'T3', expiresAt: at(now + 3_600_000) });
    assert.equal(fs.readdirSync(dir).filter((f) => /^[0-9a-f]{64}$/.test(f)).length, 2, 'the expired one was swept');
    c.drop(key({ user: 'glance' }));
    assert.equal(c.get(key({ user: 'glance' })), undefined);
    c.put(key({ user: 'late' }), { token: 'T4', expiresAt: at(now - 1) });
    assert.equal(c.get(key({ user: 'late' }), 0), undefined, 'an expired token is never kept');
    assert.equal(fileTokenCache(dir, () => now).get(key({ user: 'other' })), 'T3', 'another run reads it with the same key');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('where tokens are kept: the variable, XDG_CACHE_HOME, ~/.cache; off keeps none', () => {
  assert.equal(tokenCacheDir({ INSTALL_GLANCE_TOKEN_CACHE: '/x' }), '/x');
  assert.equal(tokenCacheDir({ INSTALL_GLANCE_TOKEN_CACHE: 'off' }), undefined);
  assert.equal(tokenCacheDir({ XDG_CACHE_HOME: '/c', HOME: '/h' }), '/c/install-glance/tokens');
  assert.equal(tokenCacheDir({ HOME: '/h' }), '/h/.cache/install-glance/tokens');
});
