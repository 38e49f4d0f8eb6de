// Reads values files the way `helm install -f a.yaml -f b.yaml` combines them: later files win.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { defaultValues, type EmoverseValues, mergeValues } from './values.js';

export async function loadValuesFiles(...paths: string[]): Promise<EmoverseValues> {
  let values = defaultValues();
  for (const path of paths) values = mergeValues(values, parse(await readFile(path, 'utf8')) ?? {});
  return values;
}
