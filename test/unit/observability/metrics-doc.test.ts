// docs/metrics.md must list exactly the catalogue's metrics, with the same type and tags.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { catalogue } from '../../../src/observability/metrics.js';

test('docs/metrics.md lists exactly the catalogue, with types and tags', (t) => {
  const doc = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');
  const rows = new Map<string, { type: string; tags: string }>();
  for (const line of doc.split('\n')) {
    const m = /^\|\s*`tributary\.([a-z_.]+)`\s*\|\s*([a-z]+)\s*\|([^|]*)\|/.exec(line);
    if (m) rows.set(m[1]!, { type: m[2]!, tags: m[3]!.replace(/[`\s]/g, '').replace(/^—$/, '') });
  }
  t.deepEqual([...rows.keys()].sort(), Object.keys(catalogue).sort());
  for (const [name, def] of Object.entries(catalogue)) {
    t.is(rows.get(name)?.type, def.type, name);
    t.is(rows.get(name)?.tags, def.tags.join(','), name);
  }
});
