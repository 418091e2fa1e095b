// Reads integration specs from a JSON file (one spec or an array) or a directory of *.json
// files, for `tributary node --specs` before the control topic takes over. Every problem is
// reported with its file and path; one bad file does not stop the others.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, errorMessage } from '../errors.js';
import { validateSinkConfig } from '../sinks/registry.js';
import { parseSpec, type IntegrationSpec } from './spec.js';

export interface SpecLoadResult {
  specs: IntegrationSpec[];
  rejected: { source: string; error: string }[];
}

export function loadSpecFiles(path: string, local: boolean): SpecLoadResult {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => join(path, f))
    : [path];
  const result: SpecLoadResult = { specs: [], rejected: [] };
  const seen = new Set<string>();
  for (const file of files) {
    let docs: unknown[];
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      docs = Array.isArray(parsed) ? parsed : [parsed];
    } catch (err) {
      result.rejected.push({ source: file, error: `not valid JSON: ${errorMessage(err)}` });
      continue;
    }
    docs.forEach((doc, i) => {
      const source = docs.length > 1 ? `${file}[${i}]` : file;
      try {
        const spec = parseSpec(doc, { local, validateSink: validateSinkConfig });
        if (seen.has(spec.id)) throw new Error(`duplicate integration id "${spec.id}"`);
        seen.add(spec.id);
        result.specs.push(spec);
      } catch (err) {
        result.rejected.push({ source, error: err instanceof ConfigError ? err.message : errorMessage(err) });
      }
    });
  }
  return result;
}
