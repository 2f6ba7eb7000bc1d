// A machine-wide lock between install-glance processes (parallel tests, two shells): a file made
// with O_EXCL that holds the owner's pid, taken over when that process is gone.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { paths } from './paths.ts';

/** True while PID runs (EPERM: it runs as someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockWait {
  /** How long to wait for a live holder before giving up. */
  waitMs?: number;
  /** Called when a live holder is found, and again each time the holder changes. */
  onWait?: (owner: number) => void;
}

export async function withLock<T>(name: string, fn: () => Promise<T>, { waitMs = 15 * 60_000, onWait }: LockWait = {}): Promise<T> {
  fs.mkdirSync(paths.locks, { recursive: true });
  const file = path.join(paths.locks, `${name}.lock`);
  const deadline = Date.now() + waitMs;
  let waitedFor: number | undefined;
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(file, 'utf8').trim());
      if (!Number.isInteger(owner) || owner <= 0 || !alive(owner)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (owner !== waitedFor) onWait?.((waitedFor = owner));
      if (Date.now() > deadline) throw new Error(`lock ${file} is held by pid ${owner}`);
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/**
 * Several locks, taken in name order (so two callers never wait on each other), released together.
 * ONWAIT hears which lock a live holder keeps it waiting for.
 */
export function withLocks<T>(names: string[], fn: () => Promise<T>, onWait?: (name: string, owner: number) => void): Promise<T> {
  const [first, ...rest] = [...new Set(names)].sort();
  return first === undefined ? fn() : withLock(first, () => withLocks(rest, fn, onWait), { onWait: onWait && ((owner) => onWait(first, owner)) });
}
