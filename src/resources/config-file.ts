// A service's INI file: the keys the release's template owns are merged into the packaged file, the
// rest kept line for line; owner root:glance, mode 0640, written atomically. The plan shows a diff
// with every secret masked. Before the package made the file, the plan says it will follow the install.
import fs from 'node:fs';
import path from 'node:path';
import type { Resource, Change } from '../engine/resource.ts';
import { projectPath } from '../project-root.ts';
import { noChange } from '../engine/resource.ts';
import type { HostContext } from '../engine/context.ts';
import { renderTemplate, mergeIni, diffIni } from './ini-merge.ts';
import type { FileFact } from '../engine/facts.ts';

const templatesDir = projectPath('templates');
const OWNER = 'root:glance';
const MODE = 0o640;

export interface ConfigState {
  file?: FileFact;
  desired?: string;
}

export function templateVars(ctx: HostContext): Record<string, string> {
  const keystone = new URL(ctx.facts.adminOpenrc ? authUrlOf(ctx) : `http://${ctx.settings.controller}:5000/v3`);
  return {
    GLANCE_DBPASS: ctx.secrets.glanceDbPass.reveal(),
    GLANCE_PASS: ctx.secrets.glancePass.reveal(),
    CONTROLLER: ctx.settings.controller,
    REGION: ctx.settings.region,
    KEYSTONE_URL: `${keystone.protocol}//${keystone.host}`,
    // Juno's identity_uri: the admin API on its own port.
    KEYSTONE_ADMIN_URL: `${keystone.protocol}//${keystone.hostname}:35357`,
    DB_HOST: ctx.settings.controller,
  };
}

function authUrlOf(ctx: HostContext): string {
  const m = /^export OS_AUTH_URL=['"]?([^'"\s]+)/m.exec(ctx.facts.adminOpenrc ?? '');
  return m?.[1] ?? `http://${ctx.settings.controller}:5000/v3`;
}

export function desiredContent(ctx: HostContext, template: string, existing: string): string {
  const text = fs.readFileSync(path.join(templatesDir, template), 'utf8');
  return mergeIni(existing, renderTemplate(text, templateVars(ctx)));
}

export function configFile(filePath: string, template: string, restarts: string): Resource<ConfigState> {
  return {
    kind: 'ini-file',
    id: filePath,
    notifies: [restarts === 'glance-registry' ? 'restart-glance-registry' : 'restart-glance-api'],
    async read(ctx) {
      const file = ctx.facts.files[filePath];
      if (!file) return {};
      return { file, desired: desiredContent(ctx, template, file.content) };
    },
    diff(s, ctx) {
      if (!s.file || s.desired === undefined) {
        return { action: 'create', changes: [{ field: 'file', to: `${filePath} (the package makes it; managed keys then set)` }], why: `${filePath} does not exist yet` };
      }
      const changes: Change[] = [];
      const detail = diffIni(s.file.content, s.desired, ctx.allSecrets.map((x) => x.reveal()));
      if (detail.length) changes.push({ field: 'content', from: '', to: `${detail.filter((l) => l.startsWith('+') || l.startsWith('-')).length} lines` });
      if (s.file.owner !== OWNER) changes.push({ field: 'owner', from: s.file.owner, to: OWNER });
      if (s.file.mode !== MODE) changes.push({ field: 'mode', from: s.file.mode.toString(8), to: MODE.toString(8) });
      if (!changes.length) return noChange(`${filePath} has every managed key, owner ${OWNER}, mode 0640`);
      return { action: 'update', changes, why: changes.map((c) => c.field).join(', ') + ' differ', detail };
    },
    async apply(ctx, s) {
      const base = s.file ?? ctx.facts.files[filePath];
      if (!base) throw new Error(`${filePath} is missing after the packages were installed`);
      const content = s.desired ?? desiredContent(ctx, template, base.content);
      await ctx.t.writeFileAtomic(filePath, content, OWNER, MODE);
    },
  };
}
