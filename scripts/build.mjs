// Bundles src/ into dist/ with esbuild: dist/install-glance.mjs (the command line) and dist/chunks/*.mjs,
// one per group of lazily imported modules, so a command loads only its own code and packages (npm
// packages stay external, each chunk imports the ones it needs, except yargs: see BUNDLED). The version
// and the git commit the bundle is built from are written into it (`install-glance --version`).
//
// Run by bin/install-glance when a source is newer than the bundle, and by npm's `prepare` (npm ci,
// npm pack, npm install from a clone). Plain JS without top-level await, so an old Node reaches the
// version check below instead of a syntax error.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const entry = path.join(dist, 'install-glance.mjs');

if (Number(process.versions.node.split('.')[0]) < 20) {
  process.stderr.write(`install-glance needs Node.js 20 or newer; this is Node.js ${process.versions.node} (${process.execPath}): install a newer one, e.g. from NodeSource or with nvm\n`);
  process.exit(1);
}

/** The commit of the checkout the bundle is built from; "unknown" outside git (or inside another repository). */
function gitCommit() {
  const git = (...args) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    if (fs.realpathSync(git('rev-parse', '--show-toplevel')) !== fs.realpathSync(root)) return 'unknown';
    const commit = git('rev-parse', '--short=12', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') ? `${commit}+changes` : commit;
  } catch {
    return 'unknown';
  }
}

// Every command parses its arguments with yargs: bundled, its 34 files are one chunk's part, and loading
// it takes ~15 ms instead of ~50 (bench:startup). The other packages are loaded by fewer commands, or
// are CommonJS with native parts (ssh2), and stay in node_modules.
const BUNDLED = ['yargs'];

// yargs finds its package.json (for a "yargs" key) and its locale files from its own file's URL, which in
// a chunk is dist/chunks/…: it is pointed back at node_modules/yargs, where it is when it is not bundled
// (in the checkout and in an installed package alike), so it reads what it read before. A chunk is always
// one level under dist/ (chunkNames below); build() checks yargs did not land in the entry.
const yargsFindsItsHome = {
  name: 'yargs-finds-its-home',
  setup(b) {
    b.onLoad({ filter: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      const home = "fileURLToPath(new URL('../../node_modules/yargs/lib/platform-shims/esm.mjs', import.meta.url))";
      const contents = source.replace('fileURLToPath(import.meta.url)', home);
      if (contents === source) throw new Error(`${args.path} no longer reads fileURLToPath(import.meta.url): check how this yargs finds its files before bundling it`);
      return { contents, loader: 'js' };
    });
  },
};

async function build() {
  const esbuild = await import('esbuild').catch((err) => {
    if (err.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new Error(`esbuild is not installed in ${root}: run "npm ci" there first (it installs the dev dependencies the build needs, then builds)`);
  });
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { 'install-glance': 'src/cli/main.ts' },
    outdir: dist,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: Object.keys(pkg.dependencies).filter((p) => !BUNDLED.includes(p)),
    plugins: [yargsFindsItsHome],
    define: { INSTALL_GLANCE_BUILD: JSON.stringify({ version: pkg.version, commit: gitCommit() }) },
    logLevel: 'warning',
    write: false,
  });
  // Every file goes through a rename, and the entry (the one fixed name) last, so a run starting
  // meanwhile loads the old bundle or the new one, never half of one. Chunk names carry a hash of their
  // content; the ones no longer referenced are removed (a run still on the old bundle that has yet to
  // import one of those fails: that takes a rebuild, i.e. a source edited, during the run).
  const put = (file, contents) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.${process.pid}.tmp`, contents);
    fs.renameSync(`${file}.${process.pid}.tmp`, file);
  };
  const files = result.outputFiles.map((f) => f.path);
  const entryFile = result.outputFiles.find((f) => f.path === entry);
  if (entryFile.text.includes('node_modules/yargs/')) {
    throw new Error('yargs is in the entry, not in a chunk under dist/chunks: its path back to node_modules (yargsFindsItsHome) would be wrong');
  }
  for (const f of result.outputFiles) if (f.path !== entry) put(f.path, f.contents);
  put(entry, entryFile.contents);
  const chunks = path.join(dist, 'chunks');
  for (const name of fs.existsSync(chunks) ? fs.readdirSync(chunks) : []) {
    if (!files.includes(path.join(chunks, name))) fs.rmSync(path.join(chunks, name), { force: true });
  }
}

build().catch((err) => {
  process.stderr.write(`build: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
