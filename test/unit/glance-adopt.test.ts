// What adoption reads from glance-api.conf: the password of [database] connection (an SQLAlchemy URL,
// percent-decoded) and [keystone_authtoken] password, only for the accounts the playbook manages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { urlCredentials, configuredSecrets } from '../../playbooks/glance/adopt.ts';

test('an SQLAlchemy URL\'s user and password, percent-decoded', () => {
  assert.deepEqual(urlCredentials('mysql+pymysql://glance:s3cret@controller/glance'), { user: 'glance', password: 's3cret' });
  assert.deepEqual(urlCredentials('mysql+pymysql://glance:p%40ss%2Fw%3Ard@10.0.0.11:3306/glance?charset=utf8'), { user: 'glance', password: 'p@ss/w:rd' });
  assert.deepEqual(urlCredentials('mysql://glance:p@ss@controller/glance'), { user: 'glance', password: 'p@ss' }, 'an unencoded @ runs to the last one');
  assert.deepEqual(urlCredentials('mysql://glance:100%@controller/glance'), { user: 'glance', password: '100%' }, 'a stray % stays');
  assert.equal(urlCredentials('sqlite:////var/lib/glance/glance.sqlite'), undefined);
  assert.equal(urlCredentials('mysql+pymysql://glance@controller/glance'), undefined);
  assert.equal(urlCredentials('mysql+pymysql://glance:@controller/glance'), undefined);
});

const settings = { dbUser: 'glance', keystoneUser: 'glance' };
const P = '/etc/glance/glance-api.conf';

test('both passwords, from where oslo.config reads them (the last value, quotes dropped)', () => {
  const conf = [
    '[DEFAULT]', 'password = not-this-one',
    '[database]', '#connection = mysql+pymysql://glance:commented@x/glance', 'connection = mysql+pymysql://glance:first@controller/glance', 'connection = mysql+pymysql://glance:db%2Bpass@controller/glance',
    '[keystone_authtoken]', 'username = glance', 'password = "ks pass"', '',
  ].join('\n');
  assert.deepEqual(configuredSecrets(conf, P, settings), {
    GLANCE_DBPASS: { value: 'db+pass', where: `${P} [database] connection` },
    GLANCE_PASS: { value: 'ks pass', where: `${P} [keystone_authtoken] password` },
  });
});

test('a packaged file has none; another account\'s password is not glance\'s', () => {
  assert.deepEqual(configuredSecrets('[database]\n[keystone_authtoken]\nauth_url = http://localhost:5000\n', P, settings), {});
  assert.deepEqual(configuredSecrets('[database]\nconnection = mysql+pymysql://other:x@db/glance\n[keystone_authtoken]\nusername = img\npassword = y\n', P, settings), {});
});
