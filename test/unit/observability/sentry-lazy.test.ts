// A node without a Sentry DSN must not load the Sentry SDK (~0.5 s and ~30 MiB per process).
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { fromPackage, resolvedModules } from '../../helpers/resolved-modules.js';

const sentryModule = fileURLToPath(new URL('../../../src/observability/sentry.ts', import.meta.url));

/** The modules resolved while creating a reporter with `dsn` (undefined: none). */
function creating(dsn: string | undefined) {
  return resolvedModules<{ enabled: boolean }>(`
    const { createFaultReporter } = await import(${JSON.stringify(sentryModule)});
    const reporter = await createFaultReporter({ environment: 'test', maxEventsPerFingerprintPerMinute: 5${dsn ? `, dsn: ${JSON.stringify(dsn)}` : ''} }, { env: {} });
    await reporter.close(100);
    report({ enabled: reporter.enabled });
  `);
}

test('without a DSN the reporter is disabled and no @sentry module is loaded', async (t) => {
  const r = await creating(undefined);
  t.false(r.report.enabled);
  t.true(r.urls.some((u) => u.endsWith('/observability/sentry.ts')), 'the hook saw the module under test');
  t.deepEqual(fromPackage(r.urls, '@sentry'), []);
});

test('with a DSN the SDK is loaded and the reporter is enabled (the control for the case above)', async (t) => {
  // Port 9 (discard) on loopback: nothing is sent, the reporter is closed before any fault.
  const r = await creating('http://public@127.0.0.1:9/1');
  t.true(r.report.enabled);
  t.true(fromPackage(r.urls, '@sentry').length > 0);
});
