import { readFileSync } from 'node:fs';
import test from 'ava';
import { specJsonSchemaText } from '../../../src/control/spec-json-schema.js';
import { parseSpec } from '../../../src/control/spec.js';
import { validateSinkConfig } from '../../../src/sinks/registry.js';

test('docs/spec.schema.json is the schema generated from the zod spec (regenerate: tributary integrations schema > docs/spec.schema.json)', (t) => {
  t.is(readFileSync('docs/spec.schema.json', 'utf8'), specJsonSchemaText());
});

test('the JSON Schema is strict where the spec is', (t) => {
  const schema = JSON.parse(specJsonSchemaText());
  t.false(schema.additionalProperties);
  t.deepEqual(schema.required.sort(), ['app', 'connect', 'id', 'sink', 'version']);
  t.truthy(schema.properties.replay);
  t.truthy(schema.properties.tenantId);
  // As production nodes: the Connect token is a reference only (an inline value is local mode's).
  const token = schema.properties.connect.properties.token;
  t.deepEqual(token.required, ['ref']);
  t.false(token.additionalProperties);
  t.is(token.anyOf, undefined);
});

test('replay requests and tenant ids are validated', (t) => {
  const base = {
    version: 1,
    id: 'acme',
    app: { key: 'app1', size: 'small' },
    connect: { url: 'https://connect.urbanairship.com/api/events', token: { ref: 'env:T' } },
    sink: { type: 'webhook', url: 'https://hooks.example.com/in' },
  };
  const parse = (x: unknown) => parseSpec(x, { local: false, validateSink: validateSinkConfig });
  t.is(parse({ ...base, replay: { requestId: 'r1', from: 'earliest' } }).replay?.from, 'earliest');
  t.is(parse({ ...base, replay: { requestId: 'r1', from: '2025-01-31T12:00:00Z' } }).replay?.requestId, 'r1');
  t.throws(() => parse({ ...base, replay: { requestId: 'r1', from: 'yesterday' } }), { message: /replay\.from/ });
  t.throws(() => parse({ ...base, replay: { from: 'earliest' } }), { message: /replay\.requestId/ });
  t.is(parse({ ...base, tenantId: 'acme-corp' }).tenantId, 'acme-corp');
  t.throws(() => parse({ ...base, tenantId: 'has spaces' }), { message: /tenantId/ });
});
