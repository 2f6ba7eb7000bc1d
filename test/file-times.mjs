// A test reporter (`--test-reporter=./test/file-times.mjs`) that says, once every file has run, how long
// each test file's process ran, longest first, and how many of its tests failed: CI's time goes where the
// top of this table says. The time is the runner's own (its `test:complete` of the file): results are
// reported in file order, so the moment a result reaches a reporter says little when files run side by
// side. Plain JS: the runner loads it before tsx.
export default async function* fileTimes(source) {
  const seconds = new Map();
  const failed = new Map();
  for await (const ev of source) {
    const file = ev.data?.file;
    if (!file) continue;
    if (ev.type === 'test:complete' && ev.data.name === file) seconds.set(file, (ev.data.details?.duration_ms ?? 0) / 1000);
    if (ev.type === 'test:fail' && ev.data.name !== file && ev.data.details?.error?.failureType !== 'subtestsFailed') failed.set(file, (failed.get(file) ?? 0) + 1);
  }
  const rows = [...seconds].sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((n, [, s]) => n + s, 0);
  const short = (file) => file.replace(/^.*?\/test\//, 'test/');
  yield `\n# per test file, its process's time (sum ${total.toFixed(0)} s over ${rows.length} files):\n`;
  for (const [file, s] of rows) yield `#   ${s.toFixed(1).padStart(7)} s  ${short(file)}${failed.get(file) ? `  (${failed.get(file)} failed)` : ''}\n`;
  // A test defined in a helper module is reported under the helper's path.
  for (const [file, n] of failed) if (!seconds.has(file)) yield `#   ${n} failed in tests defined in ${short(file)}\n`;
}
