// The version and git commit this install-glance was built from. scripts/build.mjs writes them into the
// bundle; run from source (tsx, the tests) the version comes from package.json and the commit is unknown.
import fs from 'node:fs';
import { projectPath } from '../project-root.ts';

declare const INSTALL_GLANCE_BUILD: { version: string; commit: string } | undefined;

export function buildInfo(): { version: string; commit: string } {
  if (typeof INSTALL_GLANCE_BUILD !== 'undefined') return INSTALL_GLANCE_BUILD;
  const { version } = JSON.parse(fs.readFileSync(projectPath('package.json'), 'utf8')) as { version: string };
  return { version, commit: 'unknown (run from source)' };
}

/** What `install-glance --version` prints. */
export function versionLine(): string {
  const { version, commit } = buildInfo();
  return `install-glance ${version} (commit ${commit})`;
}
