// Debian packages, installed when missing: debconf answered first (so the packages configure nothing
// behind our back), no recommends, noninteractive with stdin closed, progress from apt's status fd.
// The preseed is not checked afterwards: glance-common's postinst deletes one of its own answers.
import type { Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import type { HostContext } from '../engine/context.ts';
import { EngineError } from '../engine/errors.ts';

export interface PackagesState {
  missing: string[];
  installed: Record<string, string>;
}

const INSTALL = [
  'set -u',
  'export DEBIAN_FRONTEND=noninteractive LC_ALL=C',
  'preseed=$1; shift',
  'printf "%s\\n" "$preseed" | debconf-set-selections',
  // Status lines on fd 3 → our stdout; apt's own output → stderr. (Status-Fd=1 breaks maintainer scripts that print.)
  'install() { apt-get -q -y --no-install-recommends -o APT::Status-Fd=3 -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=120 install "$@" </dev/null 3>&1 1>&2; }',
  // A controller whose package lists are old or missing: update once, then try again.
  'install "$@" || { echo "install-glance: apt-get update" >&2; apt-get -q update </dev/null >&2 && install "$@"; }',
].join('\n');

export function aptPackages(): Resource<PackagesState> {
  return {
    kind: 'apt-package',
    id: 'glance',
    // New or upgraded code only runs after a restart (the postinst's own start used the packaged config).
    notifies: ['restart-glance-api'],
    async read(ctx) {
      const installed = Object.fromEntries(ctx.profile.packages.filter((p) => ctx.facts.packages[p]).map((p) => [p, ctx.facts.packages[p]!]));
      return { missing: ctx.profile.packages.filter((p) => !ctx.facts.packages[p]), installed };
    },
    diff(s) {
      if (!s.missing.length) return noChange(`installed: ${Object.entries(s.installed).map(([p, v]) => `${p} ${v}`).join(', ')}`);
      return { action: 'create', changes: s.missing.map((p) => ({ field: 'package', to: p })), why: `not installed: ${s.missing.join(', ')}` };
    },
    async apply(ctx, s) {
      const bar = progressBar(ctx);
      const r = await ctx.t.exec(['sh', '-c', INSTALL, 'install', ctx.profile.preseed.join('\n'), ...s.missing], { onStdout: bar.feed });
      bar.done();
      if (r.code !== 0) {
        const said = (r.stderr || r.stdout).trim().split('\n').filter((l) => !l.startsWith('pmstatus') && !l.startsWith('dlstatus')).slice(-6).join('\n');
        throw new EngineError('apt-package', `apt-get install ${s.missing.join(' ')} failed (exit ${r.code}):\n${said}`, 'fix the package manager on the controller (apt-get -f install, the mirror, disk space), then run again');
      }
      await ctx.refreshFacts();
    },
  };
}

/** apt's status lines (`pmstatus:pkg:percent:what`) as one line of progress that updates in place on a terminal. */
function progressBar(ctx: HostContext): { feed: (chunk: string) => void; done: () => void } {
  let last = -1;
  let buf = '';
  return {
    feed(chunk) {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^(pm|dl)status:[^:]*:([\d.]+):(.*)$/.exec(line);
        if (!m) continue;
        const pct = Math.floor(Number(m[2]));
        if (pct === last || (!process.stderr.isTTY && pct - last < 10)) continue;
        last = pct;
        const width = 30;
        const fill = Math.round((pct / 100) * width);
        ctx.progress(`apt [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(pct).padStart(3)}% ${m[3]!.slice(0, 50)}`);
      }
    },
    done() {},
  };
}
