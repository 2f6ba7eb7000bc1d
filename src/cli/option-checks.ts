// Values the command line refuses before anything runs (exit 64, saying what was given and what is
// wanted): used as yargs `coerce` functions, whose errors yargs reports as usage errors.
import fs from 'node:fs';
import { inspectImageFile, NotADiskImage } from '../images/detect.ts';
import { nearest } from './nearest.ts';

/** A flag given twice where it takes one value: yargs hands an array. */
function once(name: string, v: unknown): unknown {
  if (Array.isArray(v)) throw new Error(`--${name} is given ${v.length} times (${v.join(', ')}): give it once`);
  return v;
}

/** A whole number within [min, max], written as digits (`22`, not `22.0`, `0x16` or `abc`). */
export function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: unknown): number => {
    const v = once(name, raw);
    const text = String(v).trim();
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `a whole number, at least ${min}` : `a whole number from ${min} to ${max}`;
      throw new Error(`--${name} ${JSON.stringify(v)} is not ${range}`);
    }
    return n;
  };
}

export const port = (name = 'port') => integer(name, 1, 65535);

/** One of `choices`; a near miss is named. */
export function oneOf<T extends string>(name: string, choices: readonly T[]) {
  return (raw: unknown): T => {
    const v = String(once(name, raw));
    if ((choices as readonly string[]).includes(v)) return v as T;
    const near = nearest(v, choices);
    throw new Error(`--${name} ${JSON.stringify(v)} is not one of ${choices.join(', ')}${near ? ` (did you mean ${near}?)` : ''}`);
  };
}

/** A value that is there: not empty, given once. */
export function text(name: string) {
  return (raw: unknown): string => {
    const v = String(once(name, raw));
    if (!v.trim()) throw new Error(`--${name} needs a value`);
    return v;
  };
}

/**
 * A disk image file to upload: there, a regular readable file, not empty, and not compressed or archived
 * (its first bytes are read, never the whole file).
 */
export function imageFile(name: string) {
  return (raw: unknown): string => {
    const file = text(name)(raw);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
      fs.accessSync(file, fs.constants.R_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(`--${name} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable' : (e as Error).message}`);
    }
    if (!st.isFile()) throw new Error(`--${name} ${file} is not a file`);
    if (st.size === 0) throw new Error(`--${name} ${file} is empty`);
    try {
      inspectImageFile(file);
    } catch (e) {
      if (e instanceof NotADiskImage) throw new Error(`--${name} ${file} ${e.message}: ${e.hint}`);
      throw new Error(`--${name} ${file}: ${(e as Error).message}`);
    }
    return file;
  };
}
