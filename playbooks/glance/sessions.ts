// The sessions Glance's resources share on a host: the database admin, the cloud admin's credentials,
// and Keystone as the admin, with the glance user's own login beside it (its token is its password check).
import type { Secret } from '../../src/secret.ts';
import { databaseAdmin } from '../../src/providers/database-admin.ts';
import { adminCredentials } from '../../src/providers/admin-credentials.ts';
import { keystoneSession } from '../../src/providers/keystone.ts';
import type { GlanceSettings } from './settings.ts';
import type { GlanceProfile } from './profiles.ts';

/**
 * `profile` is unknown while the facts are gathered (the warm-up): the database admin then tries the
 * socket first, and falls back to TCP on a host that needs it, as the profile would have chosen.
 */
export function sessions(settings: GlanceSettings, glancePass?: Secret, profile?: Pick<GlanceProfile, 'dbAdmin'>) {
  const credentials = adminCredentials(settings.credentials);
  return {
    dbAdmin: databaseAdmin({ prefer: profile?.dbAdmin ?? 'socket', passwordFile: settings.dbAdminPasswordFile }),
    credentials,
    keystone: keystoneSession({
      credentials,
      serviceUser: glancePass && { username: settings.keystoneUser, domainId: settings.domainId, password: glancePass, projectName: settings.serviceProject },
    }),
  };
}
