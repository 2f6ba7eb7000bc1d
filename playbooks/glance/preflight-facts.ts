// What the preflight needs from the controller, gathered in the run's one fact-gathering round trip:
// its clock, free disk where the packages and the image store go, who listens on Glance's ports and on
// MariaDB's, what the names in the URLs resolve to on the controller itself. A converged host pays a few
// milliseconds of shell for them. Only when packages are missing: what apt would download (and whether
// its mirrors answer), in a round trip of its own beside the plan's reads.
import { defineFact, shq, type FactSpec } from '../../src/engine/facts.ts';
import { profiles } from './profiles.ts';

export const STORE_DIR = '/var/lib/glance/images';
export const APT_ARCHIVES = '/var/cache/apt/archives';
/** Where the packages' files go once installed. */
export const INSTALL_ROOT = '/usr';
export const MYSQL_PORT = 3306;

/** The controller's clock, in seconds since the epoch. */
export const clockFact = defineFact('preflight clock', 'date -u +%s', (raw): number | undefined => {
  const n = Number(raw.trim());
  return raw.trim() && Number.isFinite(n) ? n : undefined;
});

export interface DiskSpace {
  /** Free for an ordinary user, in KiB (df -P's Available). */
  availKiB: number;
  /** The mount point holding it. */
  mount: string;
}

/**
 * Free space on the file system each path is (or would be) on: the nearest existing directory decides.
 * One df for all (each process started costs on a busy controller).
 */
export const diskFact = defineFact(
  'preflight disk',
  `set --
for p in ${[STORE_DIR, APT_ARCHIVES, INSTALL_ROOT].map(shq).join(' ')}; do
  d=$p; while [ ! -e "$d" ]; do d=\${d%/*}; [ -n "$d" ] || d=/; done
  set -- "$@" "$d"
done
df -Pk "$@" | awk -v paths=${shq([STORE_DIR, APT_ARCHIVES, INSTALL_ROOT].join(' '))} 'BEGIN { n = split(paths, p, " ") } NR > 1 && NR - 1 <= n { print p[NR - 1] "\\t" $4 "\\t" $NF }'`,
  (raw): Record<string, DiskSpace> => {
    const out: Record<string, DiskSpace> = {};
    for (const line of raw.split('\n')) {
      const [p, avail, mount] = line.split('\t');
      if (p && mount && /^\d+$/.test(avail ?? '')) out[p] = { availKiB: Number(avail), mount };
    }
    return out;
  },
);

export interface Listener {
  port: number;
  /** The local address, as text (0.0.0.0, ::, 127.0.0.1, 10.0.0.11). */
  address: string;
  /** The process holding it, when this user may see it. */
  pid?: number;
  /** Its command line. */
  cmd?: string;
}

const servicePorts = [...new Set(Object.values(profiles).flatMap((p) => p.services.map((s) => s.port)))];
const pidfiles = [...new Set(Object.values(profiles).flatMap((p) => p.services.flatMap((s) => s.pidfiles)))];

/**
 * Listening TCP sockets on Glance's ports and MariaDB's, from /proc/net/tcp and tcp6 (no ss or netstat
 * needed), each with the process holding it: the services' own pidfiles are looked at first (one find
 * in one process's fds on a converged host), the other processes only when none of them holds it. Few
 * processes started: each costs on a busy controller.
 */
export const listenersFact = defineFact(
  'preflight listeners',
  `awk 'BEGIN { ${[...servicePorts, MYSQL_PORT].map((p) => `want[":${p.toString(16).toUpperCase().padStart(4, '0')}"] = ${p}; `).join('')}}
  $4 == "0A" { k = substr($2, length($2) - 4); if (k in want) print want[k], $2, $10 }' /proc/net/tcp /proc/net/tcp6 | while read -r port addr ino; do
  pid=
  if [ "$port" != ${MYSQL_PORT} ]; then
    for f in ${pidfiles.map(shq).join(' ')}; do
      [ -r "$f" ] && read -r p < "$f" && [ -n "$p" ] && [ -n "$(find "/proc/$p/fd" -lname "socket:\\[$ino\\]" -print -quit 2>/dev/null)" ] && { pid=$p; break; }
    done
    [ -n "$pid" ] || pid=$(find /proc/[0-9]*/fd -lname "socket:\\[$ino\\]" -print -quit 2>/dev/null | cut -d/ -f3)
  fi
  cmd=; [ -n "$pid" ] && cmd=$(tr '\\000' ' ' < "/proc/$pid/cmdline")
  printf '%s\\t%s\\t%s\\t%s\\n' "$port" "$addr" "\${pid:--}" "$cmd"
done`,
  (raw): Listener[] => raw.split('\n').flatMap((line): Listener[] => {
    const [port, addr, pid, cmd] = line.split('\t');
    if (!port || !addr) return [];
    const address = procAddress(addr.slice(0, addr.lastIndexOf(':')));
    if (!address) return [];
    return [{ port: Number(port), address, ...(pid && pid !== '-' ? { pid: Number(pid) } : {}), ...(cmd?.trim() ? { cmd: cmd.trim() } : {}) }];
  }),
);

/** An address as /proc/net/tcp{,6} writes it (hex, each 32-bit word in the host's order: little-endian here) as text. */
export function procAddress(hex: string): string | undefined {
  const word = (h: string) => Buffer.from(h, 'hex').reverse();
  if (hex.length === 8) return [...word(hex)].join('.');
  if (hex.length !== 32) return undefined;
  const bytes = Buffer.concat([0, 8, 16, 24].map((i) => word(hex.slice(i, i + 8))));
  // An IPv4 address mapped into IPv6 (::ffff:a.b.c.d) reads as the IPv4 one.
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return [...bytes.subarray(12)].join('.');
  const groups = [...Array(8).keys()].map((i) => bytes.readUInt16BE(i * 2).toString(16));
  const text = groups.join(':');
  // The longest run of zero groups as ::
  const runs = [...text.matchAll(/(?:^|:)0(?::0)+(?::|$)/g)].sort((a, b) => b[0].length - a[0].length);
  if (!runs.length) return text;
  const r = runs[0]!;
  return `${text.slice(0, r.index)}::${text.slice(r.index! + r[0].length)}`;
}

/** What each name resolves to on the controller (getent ahosts, as glance-api's own lookups go), by name; [] when it does not. */
export function namesFact(names: readonly string[]): FactSpec<Record<string, string[]>> {
  // A resolver that does not answer must not hold the round trip up for long.
  const lookup = (n: string) => `printf '%s\\t' ${shq(n)}; $t getent ahosts ${shq(n)} | awk '!seen[$1]++ { printf "%s ", $1 }'; echo`;
  const script = ['t=; command -v timeout >/dev/null && t="timeout 5"', ...names.map(lookup)].join('\n');
  return defineFact(`preflight names ${names.join(' ')}`, script, (raw) => {
    const out: Record<string, string[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (const line of raw.split('\n')) {
      const tab = line.indexOf('\t');
      if (tab < 0) continue;
      const name = line.slice(0, tab);
      if (name in out) out[name] = line.slice(tab + 1).split(' ').filter(Boolean);
    }
    return out;
  });
}

export interface AptPlan {
  /** apt's "Need to get X/Y": X, what is not in /var/cache/apt/archives yet; undefined when apt said no such line. */
  downloadBytes?: number;
  /** apt's "After this operation, N of additional disk space will be used". */
  installBytes?: number;
  /** apt's own error, when it could not plan the install (the packages unknown: no such source). */
  error?: string;
  /** Where the packages come from (scheme://host[:port]), and apt's proxies. */
  origins: string[];
  proxies: string[];
  /** For each origin (or proxy) when something is to be downloaded: "ok", or why a connection failed. */
  probes: Record<string, string>;
}

/**
 * apt's plan for installing `packages` (simulated, no lock taken): its sizes, the origins of what it would
 * download, apt's proxies, and, when anything is to be downloaded, a TCP connection to each origin (or
 * proxy) from the controller, 4 s at most each. Asked only when packages are missing (a round trip of its
 * own, beside the plan's reads: apt takes a second or more to plan), never on a converged host.
 */
export function aptPlanFact(packages: readonly string[]): FactSpec<AptPlan> {
  return defineFact(
    `preflight apt ${packages.join(' ')}`,
    `out=$(LC_ALL=C apt-get -o Debug::NoLocking=1 install --print-uris --assume-no --no-install-recommends ${packages.map(shq).join(' ')} 2>&1)
printf '%s\\n' "$out" | grep -E '^(Need to get|After this operation|E: )'
origins=$(printf '%s\\n' "$out" | sed -n "s|^'\\([a-z+]*://[^/']*\\)/.*|\\1|p" | sort -u)
for o in $origins; do echo "origin $o"; done
proxies=$(apt-config dump 2>/dev/null | sed -n 's/^Acquire::\\(http\\|https\\)::Proxy "\\(.*\\)";$/\\2/p' | grep -v '^DIRECT$')
for p in $proxies; do echo "proxy $p"; done
if printf '%s\\n' "$out" | grep -q '^Need to get [1-9]'; then
  targets=$proxies
  [ -n "$targets" ] || targets=$origins
  for t in $targets; do
    hp=\${t#*://}; hp=\${hp%%/*}; hp=\${hp#*@}
    case "$t" in https://*) dp=443 ;; *) dp=80 ;; esac
    case "$hp" in *:[0-9]*) h=\${hp%:*}; p=\${hp##*:} ;; *) h=$hp; p=$dp ;; esac
    r=$(perl -MSocket -e '($h, $p) = @ARGV; ($e) = Socket::getaddrinfo($h, $p, { socktype => Socket::SOCK_STREAM() }); if ($e) { print "$h does not resolve: $e"; exit } $s = eval { require IO::Socket::IP; IO::Socket::IP->new(PeerHost => $h, PeerPort => $p, Timeout => 4) }; if (!$s && !$INC{"IO/Socket/IP.pm"}) { require IO::Socket::INET; $s = IO::Socket::INET->new(PeerAddr => $h, PeerPort => $p, Timeout => 4) } print $s ? "ok" : "$!"' "$h" "$p" 2>&1)
    printf 'probe %s %s\\n' "$t" "$r"
  done
fi`,
    (raw): AptPlan => {
      const plan: AptPlan = { origins: [], proxies: [], probes: {} };
      for (const line of raw.split('\n')) {
        const need = /^Need to get ([\d.,]+ [kMG]?B)(?:\/([\d.,]+ [kMG]?B))? of archives/.exec(line);
        if (need) plan.downloadBytes = aptSize(need[1]!);
        const after = /^After this operation, ([\d.,]+ [kMG]?B) of additional disk space/.exec(line);
        if (after) plan.installBytes = aptSize(after[1]!);
        if (line.startsWith('E: ')) plan.error ??= line.slice(3);
        if (line.startsWith('origin ')) plan.origins.push(line.slice(7));
        if (line.startsWith('proxy ')) plan.proxies.push(line.slice(6));
        const probe = /^probe (\S+) (.*)$/.exec(line);
        if (probe) plan.probes[probe[1]!] = probe[2]!.trim();
      }
      return plan;
    },
  );
}

/** apt's sizes ("51.8 MB", "0 B", "1,234 kB"): SI units, as apt prints them. */
export function aptSize(text: string): number | undefined {
  const m = /^([\d.,]+) ([kMG]?)B$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]!.replace(/,/g, ''));
  return Math.round(n * ({ '': 1, k: 1e3, M: 1e6, G: 1e9 } as Record<string, number>)[m[2]!]!);
}
