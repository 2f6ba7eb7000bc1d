// schema/report.schema.json as the tests check --json documents against it (unit fixtures, documents the
// engine made through a fake transport, and real runs on a lab), with ajv (JSON Schema 2020-12, strict,
// formats such as date-time checked).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const schemaFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'schema', 'report.schema.json');
export const reportSchema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as object;

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(reportSchema);

/** The schema's complaints about a document (JSON text or parsed), one line each; [] when it conforms. */
export function reportErrors(doc: unknown): string[] {
  const value = typeof doc === 'string' ? JSON.parse(doc) : doc;
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}
