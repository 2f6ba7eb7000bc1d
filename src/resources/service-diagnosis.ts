// Why a service did not come back: the lines of its own output that say so. An OpenStack daemon logs
// pages of deprecation warnings before the one line that matters ("Value for option default_store … is
// not valid"), and when it dies that early the line goes to stderr, which an init script throws away: so
// the log since the restart, the journal (systemd), and, for a daemon that died, its own command run in
// the foreground as its user, each read for ERROR/CRITICAL records and exceptions only.
import type { Host } from '../engine/host.ts';
import { shq } from '../engine/facts.ts';

const COLOUR = /\x1b\[[0-9;]*m/g;
/** oslo.log's line head: `2026-11-26 14:58:56.923 2281 ERROR glance.common.wsgi [-] message`. */
const HEAD = /^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?\s+\d+\s+([A-Z]+)\s+\S+) ?(.*)$/;
/** A line of stderr that is itself a complaint: "ERROR: Value for option …", "CRITICAL …", an exception. */
const COMPLAINT = /^(?:ERROR|CRITICAL|FATAL)\b|^[A-Za-z_][\w.]*(?:Error|Exception)\b:|^Traceback /;
/** The line a traceback ends with: "sqlalchemy.exc.OperationalError: (1045, …)". */
const EXCEPTION = /^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Failure|Timeout)\b:/;
const MAX_LINE = 400;

interface LogRecord {
  /** The oslo head (time, pid, level, logger) the record's lines share; none for a bare stderr line. */
  prefix?: string;
  level?: string;
  lines: string[];
}

/**
 * Lines into records: oslo.log writes a multi-line message (a traceback) as one line per message line,
 * each with the same head, and a deprecation notice as a head line plus bare lines up to ")".
 */
function records(text: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const raw of text.replace(COLOUR, '').split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) continue;
    const last = out[out.length - 1];
    const m = HEAD.exec(line);
    if (m) {
      if (last && last.prefix === m[1]) last.lines.push(m[3]!);
      else out.push({ prefix: m[1], level: m[2], lines: [m[3]!] });
    } else if (last?.prefix && !COMPLAINT.test(line)) last.lines.push(line);
    else out.push({ lines: [line] });
  }
  return out;
}

const cut = (l: string) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)}…` : l);

/**
 * The lines of a daemon's log or stderr that say why it stopped: ERROR/CRITICAL records (a traceback cut
 * to its first line and the exception it ends with), lines such as "ERROR: Value for option … is not
 * valid", exceptions; never a warning or a deprecation notice. The last `max` such records, each said once.
 */
export function linesThatMatter(text: string, max = 6): string[] {
  const kept: { key: string; lines: string[] }[] = [];
  for (const r of records(text)) {
    const serious = r.level ? /^(ERROR|CRITICAL|FATAL)$/.test(r.level) : COMPLAINT.test(r.lines[0]!.trim());
    if (!serious || /is deprecated|deprecated for removal/i.test(r.lines[0]!)) continue;
    const body = r.lines.map((l) => l.trim()).filter(Boolean);
    const traceback = body.findIndex((l) => l.startsWith('Traceback'));
    let lines: string[];
    if (traceback >= 0) {
      // Its first line (what was being done) and the exception it ends with; the frames are not the news.
      const before = body.slice(0, traceback);
      const exception = body.slice(traceback).filter((l) => EXCEPTION.test(l)).pop();
      lines = [...before.slice(0, 1), ...(exception ? [exception] : body.slice(-1))];
    } else lines = body.slice(0, 4);
    if (!lines.length) continue;
    const key = lines.join('\n').replace(/\breq-[0-9a-f-]+.*?\]/, '');
    const said = [`${r.prefix ? `${r.prefix} ` : ''}${lines[0]}`, ...lines.slice(1).map((l) => `  ${l}`)].map(cut);
    // The same complaint repeated (a retry loop, one per worker) is said once, where it was said last.
    const seen = kept.findIndex((k) => k.key === key);
    if (seen >= 0) kept.splice(seen, 1);
    kept.push({ key, lines: said });
  }
  return kept.slice(-max).flatMap((k) => k.lines);
}

export interface Diagnosable {
  name: string;
  log?: string;
  /** The daemon's own command and user, to run in the foreground when it died before saying why anywhere kept. */
  foreground?: { user: string; command: string };
}

export interface SinceRestart {
  /** The log's size before the restart (its lines after it are the restart's). */
  logOffset?: number;
  /** The restart's time, in seconds since the epoch (the target's clock), for the journal. */
  startedAt?: number;
  /** Whether the daemon is gone (then running it in the foreground cannot collide with it). */
  died: boolean;
}

/** Where the cause was found and its lines, as one block for an error message; '' when nothing says. */
export async function whyItStopped(host: Host, svc: Diagnosable, since: SinceRestart): Promise<string> {
  const found: string[] = [];
  if (svc.log) {
    const from = since.logOffset !== undefined ? `tail -c +${since.logOffset + 1} ${shq(svc.log)}` : `cat ${shq(svc.log)}`;
    const r = await host.t.exec(['sh', '-c', `${from} 2>/dev/null | tail -n 400`], { timeoutMs: 15_000, what: `reading ${svc.log}` }).catch(() => undefined);
    const lines = linesThatMatter(r?.stdout ?? '');
    if (lines.length) found.push(`its log ${svc.log}${since.logOffset !== undefined ? ' since the restart' : ''}:`, ...lines.map((l) => `  ${l}`));
  }
  if (host.os.init === 'systemd') {
    const sinceArg = since.startedAt ? ['--since', `@${since.startedAt}`] : ['-n', '200'];
    const r = await host.t.exec(['journalctl', '-u', svc.name, ...sinceArg, '-o', 'cat', '--no-pager'], { timeoutMs: 15_000, what: `journalctl -u ${svc.name}` }).catch(() => undefined);
    const lines = linesThatMatter(r?.stdout ?? '');
    if (lines.length) found.push(`journalctl -u ${svc.name}:`, ...lines.map((l) => `  ${l}`));
  }
  if (!found.length && since.died && svc.foreground) {
    // Its stderr went nowhere; it says it again when run by hand. Bounded: a daemon that starts this time is stopped.
    const { user, command } = svc.foreground;
    const r = await host.t.exec(['sh', '-c', `timeout -k 2 20 su -s /bin/sh -c ${shq(command)} ${shq(user)} 2>&1 | tail -n 400`], { timeoutMs: 30_000, what: `${svc.name} in the foreground` }).catch(() => undefined);
    const lines = linesThatMatter(r?.stdout ?? '');
    if (lines.length) found.push(`${svc.name} run in the foreground as ${user} (${command}) says:`, ...lines.map((l) => `  ${l}`));
  }
  return found.join('\n');
}

/** The lines of a service's log that matter (errors, not warnings), from its last 400 lines, headed by its path; '' when none. */
export async function lastLog(host: Host, log: string | undefined): Promise<string> {
  if (!log) return '';
  const r = await host.t.exec(['tail', '-n', '400', log], { timeoutMs: 15_000, what: `reading ${log}` }).catch(() => undefined);
  const lines = r?.code === 0 ? linesThatMatter(r.stdout) : [];
  return lines.length ? `errors in ${log}:\n${lines.map((l) => `  ${l}`).join('\n')}` : '';
}
