// Which modules a piece of code loads: runs `body` (an async ES module body) in a child Node
// process whose every module resolution is recorded by a resolve hook, and returns the resolved
// URLs with whatever `body` wrote through `report(value)`. For tests of what is *not* loaded
// (an SDK a configuration does not use), which no in-process check can see once it is cached.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

const hook = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  port.postMessage(r.url);
  return r;
}`;

export async function resolvedModules<T = unknown>(body: string): Promise<{ urls: string[]; report: T }> {
  const script = `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const urls = [];
port1.on('message', (u) => urls.push(u));
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}), { data: { port: port2 }, transferList: [port2] });
let reported;
const report = (v) => { reported = v; };
${body}
await new Promise((r) => setTimeout(r, 100)); // the hook's last messages
port1.close();
process.stdout.write(JSON.stringify({ urls, report: reported ?? null }));
`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as { urls: string[]; report: T };
}

/** The resolved URLs inside node_modules/<pkg>/ (a scoped name like `@aws-sdk/client-s3` works). */
export const fromPackage = (urls: readonly string[], pkg: string): string[] => urls.filter((u) => u.includes(`/node_modules/${pkg}/`));
