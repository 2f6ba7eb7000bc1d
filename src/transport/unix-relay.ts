// A unix socket reached through a process on the controller instead of sshd's stream-local forward:
// the process (run by sudo as root) connects to the socket, says "ready" on stderr, then copies bytes
// between the socket and its stdin/stdout, which are the SSH channel. The server then sees that
// process's user as its peer (MariaDB's unix_socket login sees root). Perl, because perl-base is
// Essential on Debian and Ubuntu (every controller has it, Socket included) and starts in a third of
// python3's time; socat is not on every controller, and could not say when it is connected.
import type { Duplex } from 'node:stream';
import type { ExecStream } from './ssh.ts';

/** $ARGV[0]: the socket. Exit 2 when it cannot connect (the reason on stderr); 0 when either side ends. */
export const RELAY_PL = `
use strict; use Socket;
my $p = $ARGV[0];
socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!\n";
unless (connect($s, pack_sockaddr_un($p))) { print STDERR "cannot connect to $p: $!\n"; exit 2 }
syswrite STDERR, "ready\n";
sub put { my ($fh, $b, $n) = @_; my $o = 0;
  while ($o < $n) { my $w = syswrite $fh, $b, $n - $o, $o; return 0 unless defined $w; $o += $w } 1 }
my ($in, $buf) = (1, '');
while (1) {
  my $r = ''; vec($r, fileno($s), 1) = 1; vec($r, 0, 1) = 1 if $in;
  next if select($r, undef, undef, undef) < 0;
  if ($in && vec($r, 0, 1)) {
    my $n = sysread STDIN, $buf, 65536;
    if (!$n) { $in = 0; shutdown $s, 1 } else { put($s, $buf, $n) or exit 0 }
  }
  if (vec($r, fileno($s), 1)) {
    my $n = sysread $s, $buf, 65536;
    exit 0 unless $n;
    put(\*STDOUT, $buf, $n) or exit 0;
  }
}
`;

export const relayArgv = (socketPath: string): string[] => ['perl', '-e', RELAY_PL, socketPath];

const READY = 'ready\n';

/**
 * The relay's channel once it is connected. `failed` turns what the relay (or sudo before it) said on
 * stderr into the error to throw when it ends before it is ready.
 */
export async function openRelay(execStream: (argv: string[]) => Promise<ExecStream>, socketPath: string, failed: (stderr: string) => Error): Promise<Duplex> {
  const ch = await execStream(relayArgv(socketPath));
  return new Promise((resolve, reject) => {
    let said = '';
    const done = (err?: Error) => {
      ch.stderr.removeListener('data', onData);
      ch.stderr.removeListener('end', onEnd);
      ch.removeListener('error', done);
      if (err) {
        ch.on('error', () => {}); // whatever closing it says, the error below is the one that matters
        ch.destroy();
        return reject(err);
      }
      // Later stderr (a warning) must not fill the channel's window: read and drop it.
      ch.stderr.resume();
      resolve(ch);
    };
    const onData = (d: Buffer) => {
      // Anything else (sudo's or perl's complaint) is read whole when the relay ends.
      said += d.toString();
      if (said.startsWith(READY)) done();
    };
    // stderr ends when the relay does (its stdout, unread, would not end, so the channel would not close).
    const onEnd = () => {
      let err: Error;
      try {
        err = failed(said);
      } catch (e) {
        err = e as Error;
      }
      done(err);
    };
    ch.stderr.on('data', onData);
    ch.stderr.once('end', onEnd);
    ch.once('error', done);
  });
}
