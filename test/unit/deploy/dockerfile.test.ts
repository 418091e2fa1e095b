// deploy/Dockerfile and .dockerignore, checked as text (no Docker engine in CI).
import test from 'ava';
import { existsSync } from 'node:fs';
import { parseNodeConfig } from '../../../src/config/node-config.js';
import { bakedFiles, checkTributaryArgs, readRepoFile, readRepoJson, repoPath } from './deploy-files.js';

interface Instruction {
  op: string;
  args: string;
}

/** Instructions with line continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^(\S+)\s+([\s\S]*)$/.exec(l)!;
      return { op: m[1]!.toUpperCase(), args: m[2]!.trim() };
    });
}

const dockerfileText = readRepoFile('deploy', 'Dockerfile');
const all = instructions(dockerfileText);
const lastFrom = all.map((i) => i.op).lastIndexOf('FROM');
const runtime = all.slice(lastFrom);
const build = all.slice(0, lastFrom);
const one = (op: string) => runtime.filter((i) => i.op === op).at(-1);
const execForm = (i: Instruction | undefined): string[] | undefined => {
  if (!i) return undefined;
  const json = i.args.replace(/^CMD\s+/, '').replace(/^(--\S+\s+)*CMD\s+/, '');
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
};

test('Dockerfile: multi-stage on Node 22 slim; the build stage compiles with npm ci + npm run build', (t) => {
  const froms = all.filter((i) => i.op === 'FROM');
  t.true(froms.length >= 2, 'multi-stage');
  const arg = all.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
  t.is(arg?.args, 'NODE_IMAGE=node:22-slim');
  for (const f of froms) t.regex(f.args, /^\$\{NODE_IMAGE\}( AS \w+)?$/i);
  const buildRuns = build.filter((i) => i.op === 'RUN').map((i) => i.args);
  t.true(buildRuns.some((r) => /\bnpm ci\b/.test(r)));
  t.true(buildRuns.some((r) => /\bnpm run build\b/.test(r)));
  const pkg = readRepoJson<{ scripts: Record<string, string> }>('package.json');
  t.regex(pkg.scripts.build!, /tsc -p tsconfig\.build\.json/);
});

test('Dockerfile: runtime installs production dependencies only, from the lockfile', (t) => {
  const runs = runtime.filter((i) => i.op === 'RUN').map((i) => i.args);
  t.true(runs.some((r) => /\bnpm ci\b[^&]*--omit=dev/.test(r)), 'npm ci --omit=dev');
  t.false(all.some((i) => i.op === 'RUN' && /\bnpm (install|i)\b/.test(i.args)), 'never npm install (ignores the lockfile)');
  const copies = runtime.filter((i) => i.op === 'COPY').map((i) => i.args);
  t.true(copies.some((c) => /^--from=build \/app\/dist \.\/dist$/.test(c)), 'compiled dist/ from the build stage');
  t.true(copies.some((c) => /^bin \.\/bin$/.test(c)));
  t.false(copies.some((c) => /^src\b/.test(c)), 'no TypeScript sources in the runtime image');
});

test('Dockerfile: runs as a non-root user', (t) => {
  const user = one('USER');
  t.truthy(user, 'USER in the runtime stage');
  const [uid, gid] = user!.args.split(':');
  t.not(uid, 'root');
  t.not(uid, '0');
  t.regex(uid!, /^[1-9]\d*$/, 'numeric, so orchestrators can verify non-root');
  if (gid !== undefined) t.not(gid, '0');
  const task = readRepoJson<{ containerDefinitions: { user?: string }[] }>('deploy', 'ecs', 'task-definition.json');
  t.is(task.containerDefinitions[0]!.user, user!.args, 'ECS runs the same user');
  const userIdx = runtime.indexOf(user!);
  t.false(runtime.slice(userIdx).some((i) => i.op === 'USER' && /^(root|0)\b/.test(i.args)));
});

test('Dockerfile: exec-form ENTRYPOINT (node is PID 1), CMD is a valid `tributary node` in control mode, SIGTERM stop signal', (t) => {
  t.deepEqual(execForm(one('ENTRYPOINT')), ['node', 'bin/tributary.js']);
  const cmd = execForm(one('CMD'));
  t.truthy(cmd, 'CMD in exec form');
  const check = checkTributaryArgs(cmd!);
  t.deepEqual(check.problems, []);
  t.is(cmd![0], 'node');
  t.true(check.controlMode, 'the node takes its integrations from the control topic');
  t.false(check.options.has('--specs'), 'no static spec directory');
  t.is(one('STOPSIGNAL')?.args, 'SIGTERM');
  t.true(existsSync(repoPath('bin', 'tributary.js')));
  t.regex(readRepoFile('bin', 'tributary.js'), /dist', 'cli', 'main\.js'/, 'bin prefers the compiled build');
});

test('Dockerfile: no spec directory in the image; the data directory is created for the service user', (t) => {
  const runs = runtime.filter((i) => i.op === 'RUN').map((i) => i.args);
  t.false(/\/specs\b/.test(runtime.map((i) => i.args).join('\n')), 'nothing refers to a spec directory');
  const cmd = execForm(one('CMD'))!;
  const dataDir = checkTributaryArgs(cmd).values.get('--data-dir') ?? '';
  t.true(runs.some((r) => r.includes(`mkdir -p ${dataDir}`)), `${dataDir} is created`);
  t.true(runs.some((r) => /chown -R tributary:tributary \/var\/lib\/tributary\b/.test(r)) && dataDir.startsWith('/var/lib/tributary/'), 'owned by the service user');
});

test('Dockerfile: the baked pagerduty.json is a valid node config selecting PagerDuty by secret reference', (t) => {
  const files = bakedFiles(dockerfileText);
  const text = files.get('/etc/tributary/pagerduty.json');
  t.truthy(text, 'the image has /etc/tributary/pagerduty.json');
  const config = parseNodeConfig(JSON.parse(text!), 'pagerduty.json');
  t.true(config.alerting.enabled);
  t.deepEqual(config.alerting.pager.type === 'pagerduty' ? config.alerting.pager.routingKey : undefined, { ref: 'env:PAGERDUTY_ROUTING_KEY' }, 'the key is a reference, never a value');
  t.false(config.local, 'production rules (no inline secrets, no loopback http)');
  // The file selects the pager only: everything else stays with the environment and defaults.
  t.deepEqual(Object.keys(JSON.parse(text!) as object), ['alerting']);
});

test('Dockerfile: HEALTHCHECK probes /healthz with node itself (no curl in slim images)', (t) => {
  const hc = one('HEALTHCHECK');
  t.truthy(hc);
  const m = /^((?:--\S+\s+)*)CMD\s+(\[.*\])$/.exec(hc!.args);
  t.truthy(m, 'HEALTHCHECK [options] CMD [exec form]');
  const argv = JSON.parse(m![2]!) as string[];
  t.is(argv[0], 'node');
  t.true(argv.join(' ').includes("path:'/healthz'"));
  t.regex(m![1]!, /--interval=\d+s/);
  t.regex(m![1]!, /--timeout=\d+s/);
  t.false(/\bcurl\b|\bwget\b/.test(hc!.args));
  t.is(one('EXPOSE')?.args, '8080');
});

test('.dockerignore keeps secrets, local state and node_modules out of the build context', (t) => {
  const lines = readRepoFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const p of ['.git', 'node_modules', 'dist', '.tributary', '.env']) t.true(lines.includes(p), p);
  // What the Dockerfile copies must not be ignored.
  const copied = all.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  for (const c of copied) {
    t.false(lines.includes(c), `${c} is copied but ignored`);
    t.true(existsSync(repoPath(c)), `${c} exists`);
  }
});
