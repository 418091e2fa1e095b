// deploy/systemd: the unit for VPN hosts, and its environment file example.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNodeConfig } from '../../../src/config/node-config.js';
import { checkTributaryArgs, readRepoFile } from './deploy-files.js';

const unitText = readRepoFile('deploy', 'systemd', 'tributary.service');

/** section → key → values (keys may repeat, e.g. SystemCallFilter). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      current = new Map();
      sections.set(s[1]!, current);
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (kv && current) current.set(kv[1]!, [...(current.get(kv[1]!) ?? []), kv[2]!]);
  }
  return sections;
}

const unit = parseUnit(unitText);
const service = unit.get('Service')!;
const get = (k: string) => service.get(k)?.at(-1);

test('unit: simple service running `tributary node` in control mode as a dedicated user, restarted always', (t) => {
  t.truthy(unit.get('Unit') && service && unit.get('Install'));
  t.is(get('Type'), 'simple');
  t.is(get('User'), 'tributary');
  t.is(get('Restart'), 'always');
  t.regex(get('RestartSec') ?? '', /^\d+s?$/);
  t.is(get('EnvironmentFile'), '/etc/tributary/tributary.env');
  const exec = get('ExecStart')!.split(/\s+/);
  t.deepEqual(exec.slice(0, 2), ['/usr/bin/node', '/opt/tributary/bin/tributary.js']);
  const check = checkTributaryArgs(exec.slice(2));
  t.deepEqual(check.problems, []);
  t.is(exec[2], 'node');
  t.true(check.controlMode, 'integrations come from the control topic');
  t.false(check.options.has('--specs'), 'no static spec directory');
  t.is(check.values.get('--config'), '/etc/tributary/node.json', 'the config file operations.md tells hosts to write');
  t.is(unit.get('Install')!.get('WantedBy')?.[0], 'multi-user.target');
});

test('unit: SIGTERM drain fits in TimeoutStopSec', (t) => {
  t.is(get('KillSignal'), 'SIGTERM');
  const { drainMs } = checkTributaryArgs(get('ExecStart')!.split(/\s+/).slice(2));
  const stop = Number(/^(\d+)s?$/.exec(get('TimeoutStopSec') ?? '')?.[1]);
  t.true(stop * 1000 >= drainMs + 10_000, `TimeoutStopSec ${stop}s vs drain ${drainMs} ms`);
});

test('unit: hardening options', (t) => {
  const expected: Record<string, string | RegExp> = {
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    PrivateDevices: 'yes',
    CapabilityBoundingSet: '',
    RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
    RestrictNamespaces: 'yes',
    RestrictSUIDSGID: 'yes',
    LockPersonality: 'yes',
    ProtectKernelTunables: 'yes',
    ProtectKernelModules: 'yes',
    ProtectControlGroups: 'yes',
    SystemCallArchitectures: 'native',
    MemoryMax: /^\d+[KMG]$/,
    ReadWritePaths: '/var/lib/tributary',
  };
  for (const [k, v] of Object.entries(expected)) {
    if (typeof v === 'string') t.is(get(k), v, k);
    else t.regex(get(k) ?? '', v, k);
  }
  t.is(service.get('SystemCallFilter')?.[0], '@system-service');
  const dataDir = get('ExecStart')!.split(/\s+/).at(get('ExecStart')!.split(/\s+/).indexOf('--data-dir') + 1)!;
  t.true(dataDir.startsWith(`${get('ReadWritePaths')}/`), 'the data dir is writable');
});

test('unit passes systemd-analyze verify (where systemd is installed)', (t) => {
  const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    t.log('systemd-analyze not available here; the unit was checked by the other assertions only');
    t.pass();
    return;
  }
  // verify also checks that ExecStart's binary exists; use this machine's node so the result
  // does not depend on where node is installed here (production has /usr/bin/node).
  const dir = mkdtempSync(join(tmpdir(), 'tributary-unit-'));
  try {
    const file = join(dir, 'tributary.service');
    writeFileSync(file, unitText.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
    const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_LEVEL: 'warning' } });
    // Warnings (unknown keys, bad values) do not change the exit status, so they are failures here too.
    const aboutUnit = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes('tributary.service'));
    t.is(r.status, 0, r.stderr);
    t.deepEqual(aboutUnit, [], 'no warnings about the unit');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('env example: documents the config variables, leaves secrets empty', (t) => {
  const env = readRepoFile('deploy', 'systemd', 'tributary.env.example');
  const vars = new Map(
    env
      .split('\n')
      .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  for (const k of ['KAFKA_BROKERS', 'AWS_REGION', 'TRIBUTARY_STATE_TABLE', 'TRIBUTARY_NODE_ID', 'TRIBUTARY_HTTP_PORT', 'TRIBUTARY_LOG_LEVEL']) t.true(vars.has(k), k);
  for (const [k, v] of vars) if (/TOKEN|SECRET|PASSWORD|DSN|ROUTING_KEY/.test(k)) t.is(v, '', `${k} has no example value`);
  t.notRegex(env, /--specs|\/etc\/tributary\/specs/, 'no spec directory');
  // The pager has no env variable: the example says which node.json selects the routing key.
  const pager = /^#\s+(\{"alerting".*\})$/m.exec(env)?.[1];
  t.truthy(pager, 'the node.json line that selects PagerDuty');
  const config = parseNodeConfig(JSON.parse(pager ?? '{}'));
  t.is(config.alerting.pager.type, 'pagerduty');
  t.deepEqual(config.alerting.pager.type === 'pagerduty' ? config.alerting.pager.routingKey : undefined, { ref: 'env:PAGERDUTY_ROUTING_KEY' });
  t.true(vars.has('PAGERDUTY_ROUTING_KEY'));
});
