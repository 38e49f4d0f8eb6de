// Reads values files the way `helm install -f a.yaml -f b.yaml` combines them: later files win. Parsed as
// YAML 1.1, as Helm parses them (an unquoted `yes`, `on` or `off` is a boolean there, not a string).
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { defaultValues, type EmoverseValues, mergeValues } from './values.js';

export async function loadValuesFiles(...paths: string[]): Promise<EmoverseValues> {
  let values = defaultValues();
  for (const path of paths)
    values = mergeValues(values, parse(await readFile(path, 'utf8'), { version: '1.1' }) ?? {});
  return values;
}
