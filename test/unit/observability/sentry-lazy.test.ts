// A node without a Sentry DSN must not load the Sentry SDK (~0.5 s and ~30 MiB per process).
// Each case runs in a child process whose module resolutions are recorded by a resolve hook.
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const sentryModule = fileURLToPath(new URL('../../../src/observability/sentry.ts', import.meta.url));

const hook = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  port.postMessage(r.url);
  return r;
}`;

/** The module URLs resolved while creating a reporter with `dsn` (undefined: none). */
async function resolvedWhileCreating(dsn: string | undefined): Promise<{ urls: string[]; enabled: boolean }> {
  const script = `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const urls = [];
port1.on('message', (u) => urls.push(u));
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}), { data: { port: port2 }, transferList: [port2] });
const { createFaultReporter } = await import(${JSON.stringify(sentryModule)});
const reporter = await createFaultReporter({ environment: 'test', maxEventsPerFingerprintPerMinute: 5, ${dsn ? `dsn: ${JSON.stringify(dsn)}` : ''} }, { env: {} });
await new Promise((r) => setTimeout(r, 100));
await reporter.close(100);
port1.close();
process.stdout.write(JSON.stringify({ urls, enabled: reporter.enabled }));
`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 60_000 });
  return JSON.parse(stdout) as { urls: string[]; enabled: boolean };
}

const sentryUrls = (urls: string[]) => urls.filter((u) => u.includes('/node_modules/@sentry/'));

test('without a DSN the reporter is disabled and no @sentry module is loaded', async (t) => {
  const r = await resolvedWhileCreating(undefined);
  t.false(r.enabled);
  t.true(r.urls.some((u) => u.endsWith('/observability/sentry.ts')), 'the hook saw the module under test');
  t.deepEqual(sentryUrls(r.urls), []);
});

test('with a DSN the SDK is loaded and the reporter is enabled (the control for the case above)', async (t) => {
  // Port 9 (discard) on loopback: nothing is sent, the reporter is closed before any fault.
  const r = await resolvedWhileCreating('http://public@127.0.0.1:9/1');
  t.true(r.enabled);
  t.true(sentryUrls(r.urls).length > 0);
});
