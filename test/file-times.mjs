// A test reporter (`--test-reporter=./test/file-times.mjs`) that says, once every file has run, how long
// each test file took from the moment the runner started it to its last result, longest first, and how
// many of its tests failed. CI's time goes where the top of this table says. Plain JS: the runner loads
// it before tsx.
export default async function* fileTimes(source) {
  const files = new Map();
  const seen = (file) => {
    let f = files.get(file);
    if (!f) files.set(file, (f = { start: Date.now(), end: Date.now(), failed: 0 }));
    return f;
  };
  for await (const ev of source) {
    const file = ev.data?.file;
    if (!file) continue;
    const f = seen(file);
    // The runner dequeues a file (a test named by its path) when it starts the file's process.
    if (ev.type === 'test:dequeue' && ev.data.name === file) f.start = Date.now();
    f.end = Date.now();
    if (ev.type === 'test:fail' && ev.data.name !== file && !ev.data.details?.error?.failureType?.startsWith('subtestsFailed')) f.failed++;
  }
  const rows = [...files].map(([file, f]) => ({ file: file.replace(/^.*?\/test\//, 'test/'), s: (f.end - f.start) / 1000, failed: f.failed }));
  rows.sort((a, b) => b.s - a.s);
  const total = rows.reduce((n, r) => n + r.s, 0);
  yield `\n# per test file, start to last result (sum ${total.toFixed(0)} s over ${rows.length} files):\n`;
  for (const r of rows) yield `#   ${r.s.toFixed(1).padStart(7)} s  ${r.file}${r.failed ? `  (${r.failed} failed)` : ''}\n`;
}
