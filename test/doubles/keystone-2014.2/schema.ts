// The JSON schemas keystone 2014.2 checks v3 catalog bodies with (catalog/schema.py: service_create,
// service_update, endpoint_create, endpoint_update; common/validation/parameter_types.py: boolean, name,
// url), and the words of the 400 they give (common/validation/validators.py SchemaValidator.validate:
// "Invalid input for field '<field>'. The value is '<value>'." for a member, jsonschema's own message
// for the whole object). Only one error is reported, as jsonschema raises the first it finds.
import { schemaValidationError } from './errors.ts';
import type { DoubleConfig } from './app.ts';

type Prop = { type: 'string' | 'boolean'; enum?: unknown[]; minLength?: number; maxLength?: number; pattern?: RegExp };

/** parameter_types.url at tag 2014.2: a dotted host name with a 2–6 letter TLD, localhost, or IPv4. */
const URL_2014_2 = /^https?:\/\/(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,6}\.?|localhost|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?::\d+)?(?:\/?|[/?]\S+)$/;
/** parameter_types.url from 2014.2.1 (commit bd92689e, "Adds IPv6 url validation support"); jsonschema uses re.search. */
const URL_2014_2_1 = /[a-zA-Z0-9+.-]+:.+/;

const boolean: Prop = { type: 'boolean', enum: [true, false] };
const name: Prop = { type: 'string', minLength: 1, maxLength: 255 };
const url = (c: DoubleConfig): Prop => ({ type: 'string', minLength: 0, maxLength: 225, pattern: c.urlCheck === '2014.2' ? URL_2014_2 : URL_2014_2_1 });

interface Schema {
  properties: Record<string, Prop>;
  required?: string[];
  minProperties?: number;
}

export const serviceCreate = (): Schema => ({ properties: { enabled: boolean, name, type: { type: 'string', minLength: 1, maxLength: 255 } }, required: ['type'] });
export const serviceUpdate = (): Schema => ({ properties: serviceCreate().properties, minProperties: 1 });
const endpointProps = (c: DoubleConfig): Record<string, Prop> => ({
  enabled: boolean,
  interface: { type: 'string', enum: ['admin', 'internal', 'public'] },
  region_id: { type: 'string' },
  region: { type: 'string' },
  service_id: { type: 'string' },
  url: url(c),
});
export const endpointCreate = (c: DoubleConfig): Schema => ({ properties: endpointProps(c), required: ['interface', 'service_id', 'url'] });
export const endpointUpdate = (c: DoubleConfig): Schema => ({ properties: endpointProps(c), minProperties: 1 });

/** Python's '%s' of a JSON value, as the 400's words show it. */
function py(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function propOk(p: Prop, v: unknown): boolean {
  if (p.type === 'boolean' && typeof v !== 'boolean') return false;
  if (p.type === 'string') {
    if (typeof v !== 'string') return false;
    if (p.minLength !== undefined && v.length < p.minLength) return false;
    if (p.maxLength !== undefined && v.length > p.maxLength) return false;
    if (p.pattern && !p.pattern.test(v)) return false;
  }
  if (p.enum && !p.enum.includes(v)) return false;
  return true;
}

/** common/validation validated(schema, member): the body member checked before the controller runs (after policy). */
export function validate(schema: Schema, body: unknown): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw schemaValidationError(`${py(body)} is not of type 'object'`);
  const o = body as Record<string, unknown>;
  for (const r of schema.required ?? []) if (!(r in o)) throw schemaValidationError(`'${r}' is a required property`);
  if (schema.minProperties !== undefined && Object.keys(o).length < schema.minProperties) throw schemaValidationError(`${py(o)} does not have enough properties`);
  for (const [k, p] of Object.entries(schema.properties)) {
    if (k in o && !propOk(p, o[k])) throw schemaValidationError(`Invalid input for field '${k}'. The value is '${py(o[k])}'.`);
  }
}
