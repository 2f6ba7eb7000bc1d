// The bytes of a MySQL password. A server keeps SHA1(SHA1(bytes)) of the password (mysql_native_password)
// and checks a login against it, so an account works only for clients that send the same bytes. mysql2,
// the mysql command-line client and a UTF-8 terminal send UTF-8; PyMySQL (every OpenStack service's MySQL
// driver: SQLAlchemy's mysql+pymysql) sends latin-1 (pymysql/connections.py: password.encode("latin1"),
// in every release to date), so for a password with é it sends one byte where UTF-8 has two, and for one
// with € it fails before connecting (UnicodeEncodeError). ASCII is the same bytes either way.
import crypto from 'node:crypto';

/** How the account's own client encodes its password. */
export type PasswordEncoding = 'utf8' | 'latin1';

/** Why `password` cannot be sent by a client that encodes it so, or undefined. */
export function passwordEncodingProblem(password: string, encoding: PasswordEncoding): string | undefined {
  if (encoding === 'utf8') return undefined;
  let n = 0;
  for (const ch of password) {
    n++;
    if (ch.codePointAt(0)! > 0xff) {
      return `character ${n} is outside latin-1, and PyMySQL (Glance's MySQL driver) sends a password as latin-1: it cannot send this one at all (use ASCII, or letters of latin-1 such as é, ü, ß)`;
    }
  }
  return undefined;
}

/** The bytes the client sends. */
export function passwordBytes(password: string, encoding: PasswordEncoding): Buffer {
  return Buffer.from(password, encoding);
}

const sha1 = (b: Buffer) => crypto.createHash('sha1').update(b).digest();

/** What mysql2 takes instead of a password to log in with exactly these bytes (its `passwordSha1`). */
export function passwordSha1(bytes: Buffer): Buffer {
  return sha1(bytes);
}

/** The server's mysql_native_password hash of these bytes, as PASSWORD() and `IDENTIFIED BY PASSWORD` write it: `*` and 40 hex digits. */
export function nativePasswordHash(bytes: Buffer): string {
  return `*${sha1(sha1(bytes)).toString('hex').toUpperCase()}`;
}

/** Whether sending the password as UTF-8 would send other bytes than the account's client does (then the account is set from its hash). */
export function differsFromUtf8(password: string, encoding: PasswordEncoding): boolean {
  return encoding !== 'utf8' && !passwordBytes(password, encoding).equals(Buffer.from(password, 'utf8'));
}
