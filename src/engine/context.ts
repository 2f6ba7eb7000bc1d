// What a resource may use on one host: the connection, the facts, the release profile, the desired
// settings and secrets, and the sessions opened once per run (MySQL, Keystone), lazily and shared.
import type { Transport } from '../transport/ssh.ts';
import type { Profile } from '../profiles/profiles.ts';
import type { KeystoneClient } from '../clients/keystone-api.ts';
import type { MysqlSession } from '../clients/mysql.ts';
import type { Facts } from './facts.ts';
import type { Settings } from './settings.ts';
import type { ServiceSecrets } from './secrets-store.ts';
import type { Secret } from '../secret.ts';

export interface HostContext {
  host: string;
  t: Transport;
  facts: Facts;
  profile: Profile;
  settings: Settings;
  secrets: ServiceSecrets;
  /** Every secret value of this run, for masking anything shown. */
  allSecrets: Secret[];
  mysql(): Promise<MysqlSession>;
  /**
   * A client to read Keystone with. Its token is the service user's own (scoped to the service
   * project): asking for it is the password check, and a converged run needs no other token.
   * Falls back to the admin token when the service user cannot log in.
   */
  keystone(): Promise<KeystoneClient>;
  /** A client with the admin token, for writes; logged in on first use only. */
  keystoneAdmin(): Promise<KeystoneClient>;
  /** Whether Keystone issues a token for this user with this password. */
  keystonePasswordWorks(user: string, domainId: string, password: Secret): Promise<boolean>;
  /** One line of progress on a long step (stderr, never the JSON report). */
  progress(line: string): void;
  /** Re-reads the facts after a change that moves them (a package install). */
  refreshFacts(): Promise<void>;
}
