// The sessions Glance's resources share on a host: the database admin, the cloud admin's credentials,
// and Keystone as the admin, with the glance user's own login beside it (its token is its password check).
import type { Secret } from '../../src/secret.ts';
import { mysqlAdmin } from '../../src/providers/mysql-admin.ts';
import { adminCredentials } from '../../src/providers/admin-credentials.ts';
import { keystoneSession } from '../../src/providers/keystone.ts';
import type { GlanceSettings } from './settings.ts';

export function sessions(settings: GlanceSettings, glancePass?: Secret) {
  const credentials = adminCredentials(settings.credentials);
  return {
    dbAdmin: mysqlAdmin(),
    credentials,
    keystone: keystoneSession({
      credentials,
      serviceUser: glancePass && { username: settings.keystoneUser, domainId: settings.domainId, password: glancePass, projectName: settings.serviceProject },
    }),
  };
}
