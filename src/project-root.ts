// Files that ship beside the code (playbooks' templates, the lab's recipe scripts) are found from the project's
// root, so the same code works run from src/ through tsx or bundled into dist/.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function projectPath(...parts: string[]): string {
  if (!root) {
    let dir = path.dirname(fileURLToPath(import.meta.url));
    while (!fs.existsSync(path.join(dir, 'playbooks')) || !fs.existsSync(path.join(dir, 'package.json'))) {
      const up = path.dirname(dir);
      if (up === dir) throw new Error('cannot find the install-glance project root (playbooks/ beside package.json)');
      dir = up;
    }
    root = dir;
  }
  return path.join(root, ...parts);
}
