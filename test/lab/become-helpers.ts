// A lab controller as cloud images come: a sudoer `ops` (no password asked) as the way in, root's SSH
// login off; and `asks`, a sudoer whose sudo wants their password. Set up over root's SSH, which is then
// turned off (sshd reloaded), so everything after goes through ops.
import { run, labSsh, explain, poll, type CliResult } from './helpers.ts';
import { paths } from '../../src/lab/paths.ts';
import { quoteArgv } from '../../src/transport/quote.ts';
import type { LabRecord } from '../../src/lab/lab.ts';

/** `asks`'s login password, which sudo wants (a test fixture, not a secret of the product). */
export const ASKS_PASSWORD = 'lab sudo pass';

const SETUP = `set -e
export DEBIAN_FRONTEND=noninteractive
command -v sudo >/dev/null || apt-get install -y -q sudo </dev/null >/dev/null
for u in ops asks; do
  id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"
  install -d -m 700 -o "$u" -g "$u" /home/$u/.ssh
  install -m 600 -o "$u" -g "$u" /root/.ssh/authorized_keys /home/$u/.ssh/authorized_keys
done
echo 'ops ALL=(ALL) NOPASSWD: ALL' >/etc/sudoers.d/ops && chmod 440 /etc/sudoers.d/ops
usermod -aG sudo asks
chpasswd
if [ "$1" = no-root-login ]; then
  echo 'PermitRootLogin no' >/etc/ssh/sshd_config.d/00-no-root-login.conf
  kill -HUP "$(cat /run/sshd.pid)"
fi`;

/** Makes ops and asks; turns root's SSH login off unless told to keep it (a bench compares the two); returns once ops gets in and root is refused. */
export async function sudoersOnly(lab: Pick<LabRecord, 'address'>, o: { keepRootLogin?: boolean } = {}): Promise<void> {
  // stdin is chpasswd's: the script goes on the command line.
  const r = await labSsh(lab, quoteArgv(['sh', '-c', SETUP, 'setup', o.keepRootLogin ? 'keep' : 'no-root-login']), { input: `asks:${ASKS_PASSWORD}\n` });
  if (r.code !== 0) throw new Error(explain('setting up ops and asks', r));
  if (o.keepRootLogin) return;
  const ready = await poll(async () => (await labSsh(lab, 'true')).code !== 0 && (await userSsh(lab, 'ops', 'true')).code === 0, 15_000, 200);
  if (!ready) throw new Error('root can still log in, or ops cannot, after sshd was reloaded');
}

/** COMMAND by USER's shell on the lab, over ssh with the lab's key. */
export function userSsh(lab: Pick<LabRecord, 'address'>, user: string, command: string, input?: string): Promise<CliResult> {
  return run('ssh', ['-i', paths.clientKey, '-o', `UserKnownHostsFile=${paths.knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `${user}@${lab.address}`, command], input === undefined ? {} : { input });
}

/** COMMAND as root on the lab, through ops and sudo (root's own login is off). */
export async function rootSh(lab: Pick<LabRecord, 'address'>, command: string): Promise<string> {
  const r = await userSsh(lab, 'ops', 'sudo -n sh -s', command);
  if (r.code !== 0) throw new Error(explain(command, r));
  return r.stdout;
}

/** The CLI's target arguments for USER on the lab, by address, with the lab's key and known_hosts. */
export const asUser = (lab: Pick<LabRecord, 'address'>, user: string): string[] =>
  ['--host', lab.address, '--user', user, '--identity', paths.clientKey, '--known-hosts', paths.knownHosts];
