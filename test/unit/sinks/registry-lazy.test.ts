// The sink registry holds validation only: a node whose integrations all deliver to webhooks
// must not load the AWS SDK clients or the Parquet writer of the sinks it does not run.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { fromPackage, resolvedModules } from '../../helpers/resolved-modules.js';

const src = (p: string) => JSON.stringify(fileURLToPath(new URL(`../../../src/${p}`, import.meta.url)));
const sinkPackages = ['@aws-sdk/client-s3', '@aws-sdk/client-firehose', '@aws-sdk/client-kinesis', '@aws-sdk/client-sts', 'hyparquet-writer'];

test('validating sinks through the registry loads no sink SDK', async (t) => {
  const r = await resolvedModules<{ types: number; outcomes: string[] }>(`
    const { validateSinkConfig, sinkTypes } = await import(${src('sinks/registry.ts')});
    const outcomes = [];
    for (const raw of [
      { type: 'webhook', url: 'https://hooks.example.com/in' },
      { type: 's3' },
      { type: 'kinesis' },
      { type: 'firehose' },
    ]) {
      try { validateSinkConfig(raw, { local: false }); outcomes.push(raw.type + ': valid'); } catch (e) { outcomes.push(raw.type + ': ' + e.code); }
    }
    report({ types: sinkTypes.length, outcomes });
  `);
  t.is(r.report.types, 8, 'the registry knows every sink type');
  // The webhook is valid; the AWS ones are refused by their own validation (not by a missing module).
  t.deepEqual(r.report.outcomes, ['webhook: valid', 's3: config_invalid', 'kinesis: config_invalid', 'firehose: config_invalid']);
  for (const pkg of sinkPackages) t.deepEqual(fromPackage(r.urls, pkg), [], `${pkg} loaded`);
});

test('importing a sink service loads its SDK (the control for the case above)', async (t) => {
  const r = await resolvedModules(`await import(${src('sinks/s3/service.ts')});`);
  t.true(fromPackage(r.urls, '@aws-sdk/client-s3').length > 0);
});
