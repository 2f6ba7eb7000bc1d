// TLS over a tunnelled stream: the HTTP client's https. The handshake runs over the SSH channel
// (`tls.connect({ socket })`), the certificate is checked against the CA the operator named (or the
// system's roots) and against the URL's host name (which the controller resolved), and only then is the
// stream handed to HTTP: no byte of a request (a password) goes to a server that failed the check. A
// failure says which certificate, what is wrong with it, and what to pass instead.
import tls, { type PeerCertificate, type TLSSocket } from 'node:tls';
import net from 'node:net';
import type { Duplex } from 'node:stream';

/** What to trust for https: a CA (PEM) instead of the system's roots, or nothing at all (`--insecure`). */
export interface TlsTrust {
  /** PEM text of the CA certificate(s) to trust; absent: Node's bundled roots. */
  ca?: string;
  /** Where the CA came from, for messages ("--os-cacert /tmp/ca.pem", "OS_CACERT /root/openstack/ca.pem on the controller"). */
  caSource?: string;
  /** No certificate check at all. Loud wherever it is set. */
  insecure?: boolean;
}

/** A TLS handshake or certificate check that failed: what, and what to do (kept apart for the API error). */
export class TlsError extends Error {
  constructor(
    readonly problem: string,
    readonly hint: string,
    readonly code: string,
    cause?: unknown,
  ) {
    super(`${problem}; ${hint}`, cause === undefined ? undefined : { cause });
    this.name = 'TlsError';
  }
}

const UNKNOWN_CA = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_UNTRUSTED']);

const HOW_TO_TRUST = 'pass the CA that signed it with --os-cacert FILE (or OS_CACERT, or cacert: in clouds.yaml); --insecure skips the check (not for production)';

function dn(x: PeerCertificate['issuer'] | undefined): string {
  if (!x) return 'unknown';
  const parts = Object.entries(x).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`);
  return parts.length ? parts.join(', ') : 'unknown';
}

/**
 * The words for a certificate that failed (Node/OpenSSL's `code`): `shown` is host:port as the URL has it,
 * `name` the host name it was checked against, `cert` what the server presented (may be empty).
 */
export function certificateProblem(code: string, shown: string, name: string, cert: Partial<PeerCertificate> | undefined, trust: TlsTrust, detail?: string): TlsError {
  const of = `the certificate of ${shown}`;
  if (UNKNOWN_CA.has(code)) {
    const issued = `${of} (issued by ${dn(cert?.issuer)})`;
    return trust.ca
      ? new TlsError(`${issued} is not signed by the CA in ${trust.caSource ?? 'the CA file given'}`, `that CA file is another CA: ${HOW_TO_TRUST}`, code)
      : new TlsError(`${issued} is signed by an unknown CA`, HOW_TO_TRUST, code);
  }
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT') {
    return new TlsError(`${of} is self-signed${trust.ca ? `, and not the certificate in ${trust.caSource ?? 'the CA file given'}` : ''} (subject: ${dn(cert?.subject)})`,
      'pass that very certificate as the CA: --os-cacert FILE (or OS_CACERT, or cacert: in clouds.yaml)', code);
  }
  if (code === 'CERT_HAS_EXPIRED') return new TlsError(`${of} expired on ${cert?.valid_to ?? 'an earlier date'}`, `renew the certificate of the service at ${shown}`, code);
  if (code === 'CERT_NOT_YET_VALID') return new TlsError(`${of} is not valid before ${cert?.valid_from ?? 'a later date'}`, 'check the clocks of this machine and of the server (or the certificate\'s dates)', code);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new TlsError(`${of} does not name ${name} (it names ${cert?.subjectaltname ?? `only CN=${String(cert?.subject?.CN ?? '?')}`})`,
      `use a host name the certificate names in the URL (OS_AUTH_URL, auth_url in clouds.yaml), or reissue the certificate for ${name}`, code);
  }
  return new TlsError(`${of} is not trusted: ${detail ?? code}`, HOW_TO_TRUST, code);
}

/** A failure before the handshake finished: the server speaks something else, or went away. */
function handshakeProblem(e: NodeJS.ErrnoException | undefined, shown: string): TlsError {
  const code = e?.code ?? 'ECONNRESET';
  const text = `${code} ${e?.message ?? ''}`;
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|UNKNOWN_PROTOCOL|record layer failure/i.test(text)) {
    return new TlsError(`${shown} does not speak TLS (${code})`, `use http:// for it in the URL, or check the port: the https service may listen on another one`, code, e);
  }
  return new TlsError(`the TLS handshake with ${shown} failed (${e ? code : 'the connection closed'})`, `check that ${shown} serves https (its log), then run again`, code, e);
}

/**
 * Starts TLS on `stream` (a tunnel to host:port) and resolves once the server's certificate checked out;
 * rejects with a TlsError otherwise (the stream is destroyed: nothing was sent).
 */
export function secureTunnel(stream: Duplex, target: { host: string; port: number }, trust: TlsTrust): Promise<TLSSocket> {
  const shown = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  return new Promise((resolve, reject) => {
    let altname: Error | undefined;
    const socket = tls.connect({
      socket: stream,
      host: target.host,
      // SNI carries names only, never an address (RFC 6066 §3).
      servername: net.isIP(target.host) ? undefined : target.host,
      ca: trust.ca,
      // We decide after the handshake, with the certificate in hand to name what is wrong with it.
      rejectUnauthorized: false,
      checkServerIdentity: (host, cert) => (altname = tls.checkServerIdentity(host, cert)),
    });
    const onError = (e: NodeJS.ErrnoException) => fail(handshakeProblem(e, shown));
    const onClose = () => fail(handshakeProblem(undefined, shown));
    const settle = () => {
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    function fail(err: TlsError) {
      settle();
      // A late error of a socket nobody uses any more is no one's business.
      socket.on('error', () => {});
      socket.destroy();
      stream.destroy();
      reject(err);
    }
    socket.once('secureConnect', () => {
      if (trust.insecure || socket.authorized) {
        // From here on the HTTP request owns the socket and its errors.
        settle();
        resolve(socket);
        return;
      }
      const code = String(socket.authorizationError ?? 'UNKNOWN');
      fail(certificateProblem(code, shown, target.host, socket.getPeerCertificate(), trust, altname?.message));
    });
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}
