// deploy/compose.yaml and the files it mounts: parses, references consistent, configs valid
// against the real schemas, Grafana dashboard queries match the metrics catalogue.
import test from 'ava';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { loadNodeConfig, type NodeConfig } from '../../../src/config/node-config.js';
import { loadSpecFiles } from '../../../src/control/spec-files.js';
import { controlNames } from '../../../src/kafka/topics.js';
import { parseEmulatorOptions } from '../../../src/connect/emulator/options.js';
import { catalogue } from '../../../src/observability/metrics.js';
import { checkTributaryArgs, readRepoFile, readRepoJson, repoPath } from './deploy-files.js';

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string } | string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string> | string[];
  ports?: (string | { published?: string | number; protocol?: string })[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  network_mode?: string;
  healthcheck?: { test: string[] | string; disable?: boolean };
  stop_grace_period?: string;
  restart?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const composeDir = dirname(repoPath('deploy', 'compose.yaml'));
// merge: compose files use YAML merge keys (<<) with anchors for the shared image settings.
const compose = parse(readRepoFile('deploy', 'compose.yaml'), { merge: true }) as Compose;
const services = compose.services;
const names = Object.keys(services);

const envOf = (s: Service): Record<string, string> =>
  Array.isArray(s.environment) ? Object.fromEntries(s.environment.map((e) => e.split('=', 2) as [string, string])) : { ...(s.environment ?? {}) };
const dependsOn = (s: Service): Record<string, string> =>
  Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, 'service_started'])) : Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([k, v]) => [k, v.condition ?? 'service_started']));
const bindMounts = (s: Service): { source: string; target: string }[] =>
  (s.volumes ?? []).flatMap((v) => {
    if (typeof v === 'string') {
      const [source, target] = v.split(':');
      return source && target && /^[./]/.test(source) ? [{ source, target }] : [];
    }
    return v.type === 'bind' && v.source ? [{ source: v.source, target: v.target }] : [];
  });
const tributaryServices = names.filter((n) => services[n]!.image === 'tributary:local');

test('compose parses, and every service has an image or a build', (t) => {
  t.true(names.length >= 7);
  for (const n of names) t.truthy(services[n]!.image ?? services[n]!.build, n);
  for (const n of ['kafka', 'dynamodb', 'graphite', 'grafana', 'connect']) t.true(names.includes(n), n);
  t.regex(services.kafka!.image!, /^apache\/kafka:3\.9\.\d+$/);
  t.regex(services.dynamodb!.image!, /^amazon\/dynamodb-local:/);
  t.regex(services.graphite!.image!, /^graphiteapp\/graphite-statsd:/);
  t.regex(services.grafana!.image!, /^grafana\/grafana:/);
  for (const n of names) t.notRegex(services[n]!.image ?? 'x:y', /:latest$|^[^:]+$/, `${n}: pinned tag`);
});

test('compose: the tributary image is built from deploy/Dockerfile with the repository as context', (t) => {
  t.true(tributaryServices.length >= 3);
  for (const n of tributaryServices) {
    const b = services[n]!.build;
    t.true(typeof b === 'object', n);
    if (typeof b !== 'object') continue;
    t.is(resolve(composeDir, b.context), resolve(repoPath('.')), `${n}: context is the repo root`);
    t.true(existsSync(resolve(composeDir, b.context, b.dockerfile ?? 'Dockerfile')), `${n}: dockerfile exists`);
  }
});

test('compose: depends_on and network_mode name defined services; healthy conditions have health checks', (t) => {
  for (const [n, s] of Object.entries(services)) {
    for (const [dep, condition] of Object.entries(dependsOn(s))) {
      t.true(names.includes(dep), `${n} depends on undefined ${dep}`);
      t.not(dep, n);
      t.true(['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition), `${n} → ${dep}: ${condition}`);
      if (condition === 'service_healthy') t.truthy(services[dep]!.healthcheck && !services[dep]!.healthcheck!.disable, `${dep} has a healthcheck (${n} waits for it)`);
    }
    if (s.network_mode?.startsWith('service:')) {
      const owner = s.network_mode.slice('service:'.length);
      t.true(names.includes(owner), `${n}: network_mode names ${owner}`);
      t.is(s.ports, undefined, `${n} shares ${owner}'s namespace: ports are published there`);
      t.truthy(dependsOn(s)[owner], `${n} waits for ${owner}`);
    }
  }
});

test('compose: every mounted local file exists; named volumes are declared', (t) => {
  const declared = new Set(Object.keys(compose.volumes ?? {}));
  for (const [n, s] of Object.entries(services)) {
    for (const m of bindMounts(s)) t.true(existsSync(resolve(composeDir, m.source)), `${n}: ${m.source} exists`);
    for (const v of s.volumes ?? []) {
      const source = typeof v === 'string' ? v.split(':')[0]! : v.source ?? '';
      if (source && !/^[./]/.test(source)) t.true(declared.has(source), `${n}: named volume ${source} declared`);
    }
  }
});

test('compose: published host ports are unique, loopback-only, and every node HTTP port is published', (t) => {
  const seen = new Map<string, string>();
  const published = new Map<string, Set<number>>(); // namespace owner → container ports
  for (const [n, s] of Object.entries(services)) {
    for (const p of s.ports ?? []) {
      t.is(typeof p, 'string', `${n}: short port syntax`);
      const m = /^(?:(127\.0\.0\.1):)?(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(String(p));
      t.truthy(m, `${n}: ${String(p)} is ip:host:container`);
      if (!m) continue;
      t.is(m[1], '127.0.0.1', `${n}: ${String(p)} binds loopback only (a dev stack with no auth)`);
      const key = `${m[2]}/${m[4] ?? 'tcp'}`;
      t.false(seen.has(key), `host port ${key} published by ${n} and ${seen.get(key)}`);
      seen.set(key, n);
      if (!published.has(n)) published.set(n, new Set());
      published.get(n)!.add(Number(m[3]));
    }
  }
  // Services sharing a namespace must not collide on container ports, and their HTTP ports are published by the owner.
  const byNamespace = new Map<string, Map<number, string>>();
  for (const [n, s] of Object.entries(services)) {
    const port = envOf(s).TRIBUTARY_HTTP_PORT ?? envOf(s).RECEIVER_PORT;
    if (!port || !s.network_mode?.startsWith('service:')) continue;
    const owner = s.network_mode.slice('service:'.length);
    const ports = byNamespace.get(owner) ?? new Map<number, string>();
    t.false(ports.has(Number(port)), `${n} and ${ports.get(Number(port))} both listen on ${port} in ${owner}'s namespace`);
    ports.set(Number(port), n);
    byNamespace.set(owner, ports);
    t.true(published.get(owner)?.has(Number(port)), `${n}: port ${port} published on ${owner}`);
  }
});

const nodeNames = tributaryServices.filter((n) => Array.isArray(services[n]!.command) && (services[n]!.command as string[])[0] === 'node');
const mountOf = (service: string, target: string) => bindMounts(services[service]!).find((m) => m.target === target)?.source;
/** The node config a service reads: the file mounted at `configPath`, then the service's environment. */
const configAt = (service: string, configPath: string | undefined): NodeConfig => {
  const file = configPath === undefined ? undefined : mountOf(service, configPath);
  if (!file) throw new Error(`${service}: no node config mounted at ${configPath}`);
  return loadNodeConfig({ file: resolve(composeDir, file), env: envOf(services[service]!) });
};
const nodeConfig = (n: string) => configAt(n, checkTributaryArgs(services[n]!.command as string[]).values.get('--config'));

/** The one-shot service that creates the demo integrations: it runs the mounted init script. */
const initName = names.find((n) => JSON.stringify(services[n]!.entrypoint ?? '').includes('integrations-init.sh'));
const initScriptPath = (() => {
  const entry = initName ? ([] as string[]).concat(services[initName]!.entrypoint ?? []) : [];
  return entry.find((a) => a.endsWith('integrations-init.sh'));
})();
const initScript = initName && initScriptPath ? readFileSync(resolve(composeDir, mountOf(initName, initScriptPath) ?? 'missing'), 'utf8') : '';

test('compose: node commands match `tributary node` in control mode, stop grace covers the drain, health checks probe their own port', (t) => {
  const nodes = nodeNames;
  t.true(nodes.length >= 2, 'two nodes share the integrations');
  for (const n of nodes) {
    const s = services[n]!;
    const { problems, drainMs, controlMode, options } = checkTributaryArgs(s.command as string[]);
    t.deepEqual(problems, [], n);
    t.true(controlMode, `${n} takes its integrations from the control topic`);
    t.false(options.has('--specs'), `${n}: no static specs`);
    t.false(bindMounts(s).some((m) => /spec/i.test(m.source) || /spec/i.test(m.target)), `${n} mounts no spec directory`);
    const grace = /^(\d+)s$/.exec(s.stop_grace_period ?? '10s');
    t.true(Number(grace?.[1]) * 1000 > drainMs, `${n}: stop_grace_period ${s.stop_grace_period} > drain ${drainMs} ms`);
    const port = envOf(s).TRIBUTARY_HTTP_PORT ?? '8080';
    t.true(JSON.stringify(s.healthcheck?.test).includes(`127.0.0.1:${port}/readyz`), `${n} health check on its /readyz`);
    t.is(envOf(s).TRIBUTARY_NODE_ID, n);
  }
  const emulator = services.connect!;
  t.deepEqual(checkTributaryArgs(emulator.command as string[]).problems, []);
});

test('compose: integrations-init creates the demo specs through the control topic with the real CLI, once Kafka is healthy', (t) => {
  t.truthy(initName, 'a service runs integrations-init.sh');
  if (!initName) return;
  const init = services[initName]!;
  t.is(init.image, 'tributary:local', 'the same image, so the same CLI as the nodes');
  t.deepEqual(dependsOn(init), { kafka: 'service_healthy' }, 'needs only Kafka: the CLI creates the control topic if no node has');
  t.true(init.restart === undefined || init.restart === 'no', 'one-shot');
  t.is(init.network_mode, undefined, 'reaches Kafka by service name');
  for (const n of nodeNames) t.is(dependsOn(services[n]!)[initName], undefined, `${n} does not wait for it: nodes apply what is on the topic whenever it arrives`);
  // The script, as the CLI will read it.
  const cli = /^cli="node (\S+) integrations"$/m.exec(initScript)?.[1];
  const workdir = [...readRepoFile('deploy', 'Dockerfile').matchAll(/^WORKDIR (\S+)$/gm)].at(-1)?.[1];
  t.is(cli, `${workdir}/bin/tributary.js`, 'the image\'s CLI');
  const configPath = /^config=(\S+)$/m.exec(initScript)?.[1];
  const specDir = /^for spec in (\S+)\/\*\.json; do$/m.exec(initScript)?.[1];
  t.truthy(configPath && specDir, 'the script names its config and spec directory');
  t.regex(initScript, /^set -eu$/m, 'a failure fails the service');
  for (const sub of ['create', 'update']) {
    t.regex(initScript, new RegExp(`\\$cli ${sub} --config "\\$config" "\\$spec"`), `runs integrations ${sub}`);
    t.deepEqual(checkTributaryArgs(['integrations', sub, '--config', configPath ?? '', `${specDir}/demo.json`]).problems, [], `integrations ${sub} takes these arguments`);
  }
  t.regex(initScript, /\*"already exists"\*\) \$cli update/, 'falls back to update only for an id that exists');
  t.regex(readRepoFile('src', 'control', 'integrations-client.ts'), /integration \$\{spec\.id\} already exists/, "the CLI's message for an existing id");
  const config = configAt(initName, configPath);
  t.true(statSync(resolve(composeDir, mountOf(initName, specDir ?? '') ?? 'missing')).isDirectory(), `${specDir} is a mounted directory`);
  for (const n of nodeNames) {
    t.deepEqual(controlNames(config.control), controlNames(nodeConfig(n).control), `the CLI writes the control topic ${n} reads`);
    t.deepEqual(config.kafka.brokers, nodeConfig(n).kafka.brokers, `same Kafka as ${n}`);
    t.is(config.local, nodeConfig(n).local, `validated as ${n} validates`);
  }
});

test('compose: node config, demo specs and emulator apps are valid, and point at each other', (t) => {
  const appsFile = resolve(composeDir, mountOf('connect', '/etc/tributary/apps.json')!);
  const apps = parseEmulatorOptions(JSON.parse(readFileSync(appsFile, 'utf8')), appsFile);
  t.is(apps.host, '0.0.0.0', 'published from the container');
  t.deepEqual(apps.apps.map((a) => a.size).sort(), ['large', 'medium', 'small']);
  const receiverPort = envOf(services['webhook-receiver']!).RECEIVER_PORT ?? '';
  t.regex(receiverPort, /^\d+$/);

  for (const n of nodeNames) {
    const config = nodeConfig(n);
    t.true(config.local, 'local mode (loopback http for the emulator and the receiver is local-only)');
    t.deepEqual(config.kafka.brokers, ['kafka:9092']);
    t.is(config.dynamodb.endpoint, 'http://dynamodb:8000');
    t.is(config.http.port, Number(envOf(services[n]!).TRIBUTARY_HTTP_PORT ?? 8080));
    t.is(config.metrics.host, 'graphite');
    t.is(config.metrics.tagFormat, 'none', 'plain StatsD → Graphite: tags become path segments');
  }
  const ids = new Set(nodeNames.map((n) => envOf(services[n]!).TRIBUTARY_NODE_ID));
  t.is(ids.size, nodeNames.length, 'distinct node ids in one group');

  // The specs integrations-init writes, parsed with the nodes' own spec schema.
  t.truthy(initName);
  const specDir = resolve(composeDir, mountOf(initName!, /^for spec in (\S+)\/\*\.json; do$/m.exec(initScript)?.[1] ?? '') ?? 'missing');
  t.is(specDir, resolve(composeDir, 'compose', 'specs'));
  const { specs, rejected } = loadSpecFiles(specDir, configAt(initName!, /^config=(\S+)$/m.exec(initScript)?.[1]).local);
  t.deepEqual(rejected, [], 'every demo spec is valid');
  t.is(specs.length, readdirSync(specDir).filter((f) => f.endsWith('.json')).length, 'one spec per file');
  t.deepEqual(readdirSync(specDir).filter((f) => !f.endsWith('.json')), [], 'one flat directory of spec files');
  const appKeys = new Set<string>();
  for (const spec of specs) {
    appKeys.add(spec.app.key);
    t.is(new URL(spec.connect.url).port, String(apps.port), `${spec.id}: Connect URL → emulator port`);
    const app = apps.apps.find((a) => a.key === spec.app.key);
    t.truthy(app, `${spec.id}: app ${spec.app.key} is served by the emulator`);
    t.is(app?.size, spec.app.size);
    t.true('ref' in spec.connect.token, `${spec.id}: token by reference, as in production`);
    if ('ref' in spec.connect.token) {
      const envName = spec.connect.token.ref.replace(/^env:/, '');
      // Any node may be assigned any integration: every node has every token.
      for (const n of nodeNames) t.is(envOf(services[n]!)[envName], app?.token, `${n}: ${envName} is the emulator's token for ${spec.app.key}`);
    }
    if (spec.sink.type === 'webhook') t.is(new URL(String(spec.sink.url)).port, receiverPort, `${spec.id}: webhook → receiver`);
  }
  t.deepEqual([...appKeys].sort(), apps.apps.map((a) => a.key).sort(), 'every demo app has an integration');
});

test('grafana: provisioning points at the mounted dashboard and the Graphite service', (t) => {
  const grafana = services.grafana!;
  const ds = parse(readRepoFile('deploy', 'grafana', 'provisioning', 'datasources', 'graphite.yaml')) as { datasources: { uid: string; type: string; url: string }[] };
  const provider = parse(readRepoFile('deploy', 'grafana', 'provisioning', 'dashboards', 'tributary.yaml')) as { providers: { options: { path: string } }[] };
  const graphite = ds.datasources.find((d) => d.type === 'graphite')!;
  t.truthy(graphite);
  t.is(new URL(graphite.url).hostname, 'graphite');
  const dashboardMount = bindMounts(grafana).find((m) => m.source.endsWith('tributary.json'))!;
  t.truthy(dashboardMount);
  t.is(dirname(dashboardMount.target), provider.providers[0]!.options.path);
  t.is(envOf(grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH, dashboardMount.target);
  const dashboard = readRepoJson<{ panels: { type: string; datasource?: { uid: string } }[] }>('deploy', 'grafana', 'tributary.json');
  for (const p of dashboard.panels.filter((x) => x.type !== 'row')) t.is(p.datasource?.uid, graphite.uid);
});

test('grafana dashboard: real panels whose Graphite paths match the metrics catalogue (type and tag count)', (t) => {
  const dashboard = readRepoJson<{ uid: string; panels: { type: string; title: string; targets?: { target: string }[] }[] }>('deploy', 'grafana', 'tributary.json');
  t.is(dashboard.uid, 'tributary');
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  t.true(panels.length >= 8);
  const kinds = { counters: 'counter', gauges: 'gauge', timers: 'timing' } as const;
  const covered = new Set<string>();
  for (const p of panels) {
    t.true((p.targets ?? []).length > 0, `${p.title} has queries`);
    for (const { target } of p.targets ?? []) {
      const paths = [...target.matchAll(/stats\.(counters|gauges|timers)\.tributary\.([a-z_]+\.[a-z_]+)((?:\.\*)*)(?:\.(count|rate|upper_90))?/g)];
      t.true(paths.length > 0, `${p.title}: ${target}`);
      for (const [, kind, name, wildcards, suffix] of paths) {
        const def = (catalogue as Record<string, { type: string; tags: readonly string[] }>)[name!];
        t.truthy(def, `${name} is in the catalogue`);
        if (!def) continue;
        covered.add(name ?? '');
        t.is(def.type, kinds[kind as keyof typeof kinds], `${name ?? ''} is a ${def.type}`);
        t.is((wildcards ?? '').split('.*').length - 1, def.tags.length, `${p.title}: ${name} has ${def.tags.length} tag segments`);
        if (kind === 'counters') t.true(suffix === 'count' || suffix === 'rate', `${name}: .count or .rate`);
        if (kind === 'timers') t.is(suffix, 'upper_90');
      }
    }
  }
  for (const m of ['source.events_read', 'source.events_produced', 'sink.events_delivered', 'sink.events_dlq', 'sink.consumer_lag', 'supervision.crashes', 'alerting.pages']) {
    t.true(covered.has(m), `dashboard shows ${m}`);
  }
});
