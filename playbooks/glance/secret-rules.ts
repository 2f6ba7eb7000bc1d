// What each Glance secret can hold, from where it goes. GLANCE_DBPASS: MariaDB (the MySQL protocol), and
// glance-api.conf's [database] connection URL, percent-encoded, which SQLAlchemy decodes and hands to
// PyMySQL, which sends it as latin-1. GLANCE_PASS: Keystone (JSON; bcrypt stops at a NUL; Keystone takes
// at most 4096 characters by default), and glance-api.conf's [keystone_authtoken] password as it is,
// read by oslo.config. Both: the local secrets file (JSON) and the environment. A value these cannot
// carry exactly is refused before anything is changed (the engine asks every value, whatever its source).
import { unsafeTextProblem } from '../../src/secrets/safe-text.ts';
import { passwordEncodingProblem, type PasswordEncoding } from '../../src/clients/mysql-password.ts';
import { osloValueProblem } from '../../src/resources/ini/oslo-value.ts';

/** How Glance's MySQL driver (PyMySQL) sends the database password. */
export const GLANCE_DB_PASSWORD_ENCODING: PasswordEncoding = 'latin1';

/** Keystone's [identity] max_password_length default: a longer password is answered 400. */
const KEYSTONE_MAX_PASSWORD = 4096;

export function dbPasswordProblem(value: string): string | undefined {
  // The URL's percent-encoding carries anything; latin-1 is the narrow part.
  return unsafeTextProblem(value) ?? passwordEncodingProblem(value, GLANCE_DB_PASSWORD_ENCODING);
}

export function keystonePasswordProblem(value: string): string | undefined {
  const length = [...value].length;
  return unsafeTextProblem(value)
    ?? (length > KEYSTONE_MAX_PASSWORD ? `it is ${length} characters long; Keystone takes at most ${KEYSTONE_MAX_PASSWORD} ([identity] max_password_length)` : undefined)
    ?? osloValueProblem(value);
}
