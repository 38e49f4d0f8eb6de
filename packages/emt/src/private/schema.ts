// Every record is checked against schema/emt-record.schema.json (kept in the repo, shipped with the package).
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';

const schemaUrl = new URL('../../schema/emt-record.schema.json', import.meta.url);

/** The JSON schema of one EMT record. */
export const EMT_RECORD_SCHEMA: Record<string, unknown> = JSON.parse(readFileSync(schemaUrl, 'utf8'));

const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(EMT_RECORD_SCHEMA);

/** null when the record is valid, else the errors as one line. */
export function recordErrors(record: unknown): string | null {
  if (validate(record)) return null;
  return (validate.errors as ErrorObject[]).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
}
