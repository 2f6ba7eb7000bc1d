import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { claim, claimedElsewhere, release } from '../../src/lab/address-claims.ts';

// An index no lab ever gets (addresses stop at 250), so the machine's real claims are never touched.
const INDEX = 9_999;

test('a claim holds an index for its lab only while that lab exists, and only its lab lets it go', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'claims-'));
  const a = path.join(root, 'a');
  const b = path.join(root, 'b');
  fs.mkdirSync(a);
  try {
    assert.equal(claimedElsewhere(INDEX, a), false);
    claim(INDEX, a);
    assert.equal(claimedElsewhere(INDEX, b), true, 'another state root sees it taken');
    assert.equal(claimedElsewhere(INDEX, a), false, 'its own lab does not');
    release(INDEX, b);
    assert.equal(claimedElsewhere(INDEX, b), true, 'a lab that does not hold it cannot let it go');
    fs.rmSync(a, { recursive: true });
    assert.equal(claimedElsewhere(INDEX, b), false, 'a claim whose lab is gone is free');
    fs.mkdirSync(a);
    release(INDEX, a);
    assert.equal(claimedElsewhere(INDEX, b), false);
  } finally {
    release(INDEX, a);
    fs.rmSync(root, { recursive: true, force: true });
  }
});
