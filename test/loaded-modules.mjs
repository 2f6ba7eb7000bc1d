// Preload (`node --import ./test/loaded-modules.mjs …`) that writes, at exit, every module file the
// process loaded (ESM through a load hook, CommonJS from require's cache) to $LOADED_MODULES_OUT, one per
// line. bench/startup.ts and test/unit/startup-modules.test.ts use it to see which packages a command
// pulls in. Plain JS: it runs before tsx.
import fs from 'node:fs';
import { register, createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';

const out = process.env.LOADED_MODULES_OUT;

// Node runs module hooks on a thread of their own; there this file only provides `load`.
if (isMainThread && out) {
  register(import.meta.url);
  const cjsCache = createRequire(import.meta.url)('node:module')._cache;
  process.on('exit', () => fs.appendFileSync(out, Object.keys(cjsCache).map((f) => `file://${f}\n`).join('')));
}

export async function load(url, context, next) {
  if (out && url.startsWith('file:')) fs.appendFileSync(out, url + '\n');
  return next(url, context);
}
