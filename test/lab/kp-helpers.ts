// Kill points: a CLI run watched line by line (its stderr: the plan, each resource as it finishes, the
// progress of the long steps, -v's trace of every remote command), stopped at an exact moment by SIGKILL
// or by cutting its SSH connection on the controller's side (the sshd process of that connection killed),
// and what the controller looks like afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { labSsh, repoRoot, run, explain, cliArgv, type CliResult } from './helpers.ts';
import type { LabRecord } from '../../src/lab/lab.ts';


/** A CLI run under way: its stderr lines as they come, and its end. */
export interface LiveRun {
  readonly child: ChildProcess;
  readonly lines: readonly string[];
  /** The first stderr line matching `re` (one already seen counts); rejects when the run ends first or after timeoutMs. */
  line(re: RegExp, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<CliResult>;
}

/** `install-glance ARGS` as a child process whose stderr is read line by line. */
export function startCli(args: string[], env: NodeJS.ProcessEnv): LiveRun {
  const child = spawn(cliArgv[0]!, [...cliArgv.slice(1), ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    const parts = (partial + d).split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      for (const w of [...waiters]) {
        if (w.re.test(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    }
  });
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}\n(killed by ${signal})` : stderr }));
  });
  return {
    child,
    lines,
    exited,
    line(re, timeoutMs = 600_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const w = { re, resolve: (l: string) => { clearTimeout(timer); resolve(l); } };
        const timer = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); reject(new Error(`no line matching ${re} within ${timeoutMs} ms; the last lines:\n${lines.slice(-15).join('\n')}`)); }, timeoutMs);
        waiters.push(w);
        void exited.then((r) => {
          if (!waiters.includes(w)) return;
          waiters.splice(waiters.indexOf(w), 1);
          clearTimeout(timer);
          reject(new Error(explain(`the run ended before a line matching ${re}`, r)));
        });
      });
    },
  };
}

/** The local port of the one SSH connection process `pid` holds to the lab. */
async function sshPortOf(lab: Pick<LabRecord, 'address'>, pid: number): Promise<number> {
  const r = await run('ss', ['-tnpH', 'state', 'established', 'dst', lab.address]);
  for (const l of r.stdout.split('\n')) {
    const cols = l.trim().split(/\s+/);
    // Recv-Q Send-Q Local:Port Peer:Port users:((…))
    if (cols[3] === `${lab.address}:22` && new RegExp(`pid=${pid},`).test(l)) return Number(cols[2]!.split(':').pop());
  }
  throw new Error(`process ${pid} holds no SSH connection to ${lab.address}:\n${r.stdout}`);
}

/**
 * Cuts the CLI's SSH connection as a dying link or a killed sshd would: on the controller, the sshd
 * processes of that connection (found by its port) get SIGKILL. Returns their pids.
 */
export async function cutSsh(lab: Pick<LabRecord, 'address'>, pid: number): Promise<number[]> {
  const port = await sshPortOf(lab, pid);
  const r = await labSsh(lab, `p=$(ss -tnpH state established '( sport = :22 and dport = :${port} )' | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); [ -n "$p" ] && kill -9 $p && echo $p`);
  if (r.code !== 0) throw new Error(explain(`cutting the SSH connection from port ${port}`, r));
  return r.stdout.trim().split(/\s+/).map(Number);
}

/** Polls a shell condition on the controller (every 100 ms, in one SSH session) until it holds. */
export async function untilOnController(lab: Pick<LabRecord, 'address'>, condition: string, timeoutS = 300): Promise<void> {
  const script = `i=0; while [ $i -lt ${timeoutS * 10} ]; do if ${condition}; then exit 0; fi; sleep 0.1; i=$((i+1)); done; exit 1`;
  const r = await labSsh(lab, script, { timeoutMs: (timeoutS + 30) * 1000 });
  if (r.code !== 0) throw new Error(explain(`waiting on the controller until ${condition}`, r));
}

/**
 * What a run cut off can leave running on the controller: apt and dpkg, the schema sync, a service
 * restart (the control script). Their command lines, or [] when the controller is quiet.
 */
export async function leftRunning(lab: Pick<LabRecord, 'address'>): Promise<string[]> {
  const r = await labSsh(lab, "pgrep -af '(^|/)(apt-get|dpkg|glance-manage)( |$)|control (sysvinit|systemd|upstart) glance' | grep -v pgrep || true");
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Waits until nothing a dead run started still runs on the controller; returns what was seen running first. */
export async function settle(lab: Pick<LabRecord, 'address'>, timeoutS = 600): Promise<string[]> {
  const first = await leftRunning(lab);
  if (first.length) {
    await untilOnController(lab, "! pgrep -f '(^|/)(apt-get|dpkg|glance-manage)( |$)|control (sysvinit|systemd|upstart) glance' >/dev/null", timeoutS);
  }
  return first;
}
