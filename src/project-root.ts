// Files that ship beside the code (the templates, the lab's recipe scripts, package.json) are found from
// the project's root: the nearest directory up from this module whose package.json is install-glance's.
// So the same code works run from src/ through tsx, bundled into dist/ in a checkout, and installed by
// npm (…/node_modules/install-glance/dist/chunks/), wherever the templates live inside the project.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

function isProjectRoot(dir: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'install-glance';
  } catch {
    return false; // no package.json here, or not one we can read
  }
}

export function projectPath(...parts: string[]): string {
  if (!root) {
    let dir = path.dirname(fileURLToPath(import.meta.url));
    while (!isProjectRoot(dir)) {
      const up = path.dirname(dir);
      if (up === dir) throw new Error(`cannot find the install-glance project root (a package.json named install-glance) above ${fileURLToPath(import.meta.url)}`);
      dir = up;
    }
    root = dir;
  }
  return path.join(root, ...parts);
}
