// IntegrationThreads, the node's integrations on worker threads: placement by weight, requests
// in order, answers gathered from every thread, a thread that ends started again with its
// integrations, and what happens when threads keep ending or cannot start. The threads here run
// test/helpers/fake-integration-thread.ts, which speaks the thread protocol without clients (the
// real threads are exercised against Kafka and DynamoDB in test/e2e/integration-threads.test.ts).
import test, { type ExecutionContext } from 'ava';
import { parseNodeConfig } from '../../../src/config/node-config.js';
import { noFlagOverrides, type FlagOverrides } from '../../../src/control/flags.js';
import { parseSpec, type IntegrationSpec } from '../../../src/control/spec.js';
import { IntegrationThreads, type IntegrationThreadsOptions } from '../../../src/node/integration-threads.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { FailureReport } from '../../../src/supervision/guardian-types.js';
import { restartPolicySchema } from '../../../src/supervision/restart-policy.js';

const entry = new URL('../../helpers/fake-integration-thread.ts', import.meta.url);

function spec(id: string, app: string, size: 'small' | 'medium' | 'large', url = 'https://hooks.example.com/x'): IntegrationSpec {
  return parseSpec(
    { version: 1, id, app: { key: app, size }, connect: { url: 'https://connect.urbanairship.com/api/events', token: { ref: 'env:T' } }, sink: { type: 'webhook', url } },
    { local: false },
  );
}

function threads(n: number, o: Partial<IntegrationThreadsOptions> & { env?: Record<string, string> } = {}) {
  const reports: FailureReport[] = [];
  const fatal: string[] = [];
  const counted: string[] = [];
  let flags: FlagOverrides = noFlagOverrides;
  const it = new IntegrationThreads({
    threads: n,
    data: { nodeId: 'n1', config: parseNodeConfig({}), dataDir: '/nonexistent', restartPolicy: restartPolicySchema.parse({}), probeIntervalMs: 1_000, env: o.env ?? {} },
    flags: () => flags,
    logger: createLogger({ level: 'silent' }),
    metrics: { count: (name) => void counted.push(name) },
    onReport: (r) => void reports.push(r),
    onFatal: (reason) => void fatal.push(reason),
    entry,
    restartDelayMs: 50,
    ...o,
  });
  return { it, reports, fatal, counted, setFlags: (f: FlagOverrides) => (flags = f) };
}

/** Threads started, ended after the test. */
async function started(t: ExecutionContext, n: number) {
  const made = threads(n);
  await made.it.start();
  t.teardown(() => made.it.shutdown());
  return made;
}

const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('an app goes to the lightest thread when its first integration arrives (large 100, medium 10, small 1) and its integrations stay together', async (t) => {
  const { it, reports } = await started(t, 2);
  it.apply(spec('big', 'A', 'large'));
  it.apply(spec('mid', 'B', 'medium'));
  it.apply(spec('s1', 'C', 'small'));
  it.apply(spec('s2', 'D', 'small'));
  it.apply(spec('big2', 'E', 'large'));
  it.apply(spec('big-b', 'A', 'large'), '3:17');
  const all = await it.status();
  t.deepEqual(
    Object.fromEntries(all.map((s) => [s.integrationId, s.statusReason])),
    { big: 'thread 0', 'big-b': 'thread 0', mid: 'thread 1', s1: 'thread 1', s2: 'thread 1', big2: 'thread 1' },
  );
  t.is(all.find((s) => s.integrationId === 'big-b')!.checkpoint, '3:17', 'the control position crosses with the spec');
  t.deepEqual(['big', 'mid', 's1', 's2', 'big2', 'big-b'].map((id) => it.threadOf(id)), [0, 1, 1, 1, 1, 0]);
  t.deepEqual(Object.fromEntries(all.map((s) => [s.integrationId, s.thread])), { big: 0, 'big-b': 0, mid: 1, s1: 1, s2: 1, big2: 1 }, '/status names each integration\'s thread');
  // Every thread's reports reach the main thread's handler, with the node id.
  await until('six reports', () => reports.length === 6);
  // Sorted: ava compares Sets in insertion order, and the two threads report in either order.
  t.deepEqual([...new Set(reports.map((r) => r.fingerprint))].sort(), ['applied-on-0', 'applied-on-1']);
});

test('removals free the weight and the app; an integration moved to an app on another thread leaves its old thread first', async (t) => {
  const { it } = await started(t, 2);
  it.apply(spec('a1', 'A', 'large'));
  it.apply(spec('b1', 'B', 'small'));
  await it.status();
  t.deepEqual([it.threadOf('a1'), it.threadOf('b1')], [0, 1]);
  // b1 joins app A: it must run once, on A's thread.
  it.apply(spec('b1', 'A', 'small'));
  let all = await it.status();
  t.deepEqual(all.map((s) => `${s.integrationId}@${s.statusReason}`).sort(), ['a1@thread 0', 'b1@thread 0']);
  await it.removeMany(['a1', 'b1', 'unknown']);
  t.deepEqual(await it.status(), []);
  t.is(it.threadOf('a1'), undefined);
  // Both threads weigh nothing again: a new large app takes thread 0, the next one thread 1.
  it.apply(spec('c1', 'C', 'large'));
  it.apply(spec('d1', 'D', 'large'));
  await it.status();
  t.deepEqual([it.threadOf('c1'), it.threadOf('d1')], [0, 1]);
  await it.remove('d1');
  all = await it.status();
  t.deepEqual(all.map((s) => s.integrationId), ['c1']);
});

test('replay goes to the integration\'s thread, after the applies before it; one not held here is refused', async (t) => {
  const { it } = await started(t, 2);
  it.apply(spec('a1', 'A', 'large'));
  it.apply(spec('b1', 'B', 'large'));
  t.deepEqual(await it.replay('b1', { earliest: true }), { ok: true, partitions: 2 });
  t.deepEqual(await it.replay('zz', { earliest: true }), { ok: false, error: 'integration zz does not run on this node' });
});

test('flag changes reach every thread', async (t) => {
  const { it, setFlags } = await started(t, 2);
  it.apply(spec('a1', 'A', 'large'));
  it.apply(spec('b1', 'B', 'large'));
  setFlags({ fleet: { 'sink.parkWhenIdle': true }, byApp: new Map() });
  it.flagsChanged();
  await until('both threads saw the flag', async () => (await it.status()).every((s) => s.statusReason.endsWith('flags sink.parkWhenIdle')));
  t.pass();
});

test('a thread that ends unasked is started again with the integrations it holds now; its pending requests get their fallback answers', async (t) => {
  const { it, counted, fatal } = await started(t, 2);
  it.apply(spec('a1', 'A', 'large'));
  it.apply(spec('b1', 'B', 'large'));
  it.apply(spec('b2', 'B', 'small'));
  const before = it.workers()[1]!;
  // b3's sink makes the fake thread exit; the removal asked right after is answered by its fallback.
  it.apply(spec('b3', 'B', 'small', 'https://hooks.example.com/crash'));
  it.remove('b3').catch(() => undefined);
  await until('thread 1 replaced', () => it.workers()[1] !== before);
  await until('thread 1 runs b1 and b2 again', async () => (await it.status()).filter((s) => s.statusReason === 'thread 1').length === 2);
  t.deepEqual((await it.status()).map((s) => s.integrationId).sort(), ['a1', 'b1', 'b2']);
  t.deepEqual(counted, ['node.integration_thread_restarts']);
  t.deepEqual(fatal, []);
});

test('three unasked ends within five minutes are a node fault: no more restarts', async (t) => {
  const { it, counted, fatal } = await started(t, 1);
  for (let i = 0; i < 3; i++) {
    const w = it.workers()[0]!;
    await w.terminate();
    if (i < 2) await until(`restart ${i + 1}`, () => it.workers()[0] !== w);
  }
  await until('onFatal', () => fatal.length === 1);
  t.regex(fatal[0]!, /integration threads ended 3 times in 5 minutes \(last: thread 0, exited \(exit code \d\)\)/);
  t.is(counted.length, 2, 'two restarts; the third end restarts nothing');
  await new Promise((r) => setTimeout(r, 200));
  t.deepEqual(await it.status(), [], 'the ended thread answers nothing');
});

test('a thread that cannot start fails the start with its reason, and every thread is ended', async (t) => {
  const { it, fatal } = threads(2, { env: { FAKE_THREAD_FAIL_START: '1' } });
  const err = await t.throwsAsync(() => it.start());
  t.regex(err!.message, /integration thread \d could not start: no broker/);
  await until('both threads ended', async () => (await it.status()).length === 0);
  t.deepEqual(fatal, [], 'a failed start is the caller\'s error, not a node fault');
  t.throws(() => new IntegrationThreads({ ...({} as IntegrationThreadsOptions), threads: 0 }), { message: /at least 1/ });
});

test('shutdown drains every thread and ends it; nothing is restarted', async (t) => {
  const { it, counted } = threads(2);
  await it.start();
  it.apply(spec('a1', 'A', 'large'));
  await it.shutdown();
  await new Promise((r) => setTimeout(r, 200));
  t.deepEqual(counted, []);
  t.deepEqual(await it.status(), []);
});

test('a thread that ends while another is still starting is started again once the start is done', async (t) => {
  const { it, counted } = threads(2, { env: { FAKE_THREAD_SLOW_START: '0:400' } });
  const starting = it.start();
  const first = it.workers()[1]!;
  // Thread 1 says ready at once and ends; thread 0 is still starting.
  first.on('message', (m: { type: string }) => void (m.type === 'ready' && first.terminate()));
  await starting;
  t.teardown(() => it.shutdown());
  await until('thread 1 started again', () => it.workers()[1] !== first);
  t.deepEqual(counted, ['node.integration_thread_restarts']);
  it.apply(spec('a1', 'A', 'large'));
  it.apply(spec('b1', 'B', 'large'));
  await until('both run', async () => (await it.status()).filter((s) => s.status === 'running').length === 2);
  t.deepEqual((await it.status()).map((s) => `${s.integrationId}@${s.statusReason}`).sort(), ['a1@thread 0', 'b1@thread 1']);
});

test('a flag change read while the threads start reaches them (the node is told of changes only once they run)', async (t) => {
  const { it, setFlags } = threads(2, { env: { FAKE_THREAD_SLOW_START: '0:300' } });
  const starting = it.start();
  setFlags({ fleet: { 'sink.parkWhenIdle': true }, byApp: new Map() });
  await starting;
  t.teardown(() => it.shutdown());
  it.apply(spec('a1', 'A', 'large'));
  it.apply(spec('b1', 'B', 'large'));
  await until('both threads have the flag', async () => {
    const all = await it.status();
    return all.length === 2 && all.every((s) => s.statusReason.endsWith('flags sink.parkWhenIdle'));
  });
  t.pass();
});

/**
 * a1 (app A) on thread 0 and b1 (app B) on thread 1; then thread 1 crashes (b2's sink), and this
 * returns once it has ended: it is started again 300 ms later.
 */
async function thread1Down(t: ExecutionContext) {
  const { it } = threads(2, { restartDelayMs: 300 });
  await it.start();
  t.teardown(() => it.shutdown());
  it.apply(spec('a1', 'A', 'large'));
  it.apply(spec('b1', 'B', 'large'));
  await until('both run', async () => (await it.status()).length === 2);
  const exited = new Promise((r) => it.workers()[1]!.once('exit', r));
  it.apply(spec('b2', 'B', 'small', 'https://hooks.example.com/crash'));
  await it.remove('b2');
  await exited;
  return it;
}

test('while a thread is started again, /status shows its integrations as starting, and a replay waits for the new thread', async (t) => {
  const it = await thread1Down(t);
  const during = await it.status();
  t.like(during.find((s) => s.integrationId === 'b1'), { status: 'starting', thread: 1, sinkChecked: false, statusReason: 'its integration thread 1 ended and is being started again' });
  t.like(during.find((s) => s.integrationId === 'a1'), { status: 'running', thread: 0 });
  t.deepEqual(await it.replay('b1', { earliest: true }), { ok: true, partitions: 2 }, 'answered by the new thread 1');
});

test('a thread that does not answer in time is ended and started again; a status behind it in the order fails after its bound, as the in-process guardian\'s', async (t) => {
  const { it, counted } = threads(2, { answerMs: 400, statusMs: 150 });
  await it.start();
  t.teardown(() => it.shutdown());
  it.apply(spec('a1', 'A', 'large'));
  it.apply(spec('b1', 'B', 'large', 'https://hooks.example.com/block'));
  await until('both run', async () => (await it.status()).length === 2);
  const before = it.workers()[1]!;
  // The removal blocks thread 1's event loop; the status behind it in the chain is not asked in time.
  const removal = it.remove('b1');
  await t.throwsAsync(() => it.status(), { message: /no status within 0.15 s \(an earlier removal or move is still running\)/ });
  await removal;
  await until('thread 1 started again', () => it.workers()[1] !== before);
  t.deepEqual(counted, ['node.integration_thread_restarts']);
  t.is(it.threadOf('b1'), undefined, 'the removal stands: the new thread does not run b1');
  t.deepEqual((await it.status()).map((s) => `${s.integrationId}:${s.status}`), ['a1:running']);
});

test('a removal a thread could not finish in time rejects, as the in-process guardian\'s; a move whose removal failed is not applied', async (t) => {
  const { it } = await started(t, 2);
  it.apply(spec('stuck1', 'A', 'large'));
  it.apply(spec('b1', 'B', 'large'));
  it.apply(spec('stuck2', 'A', 'small'));
  await until('all run', async () => (await it.status()).length === 3);
  // stuck2 moves to app B (thread 1); its old thread answers that it did not stop in time.
  it.apply(spec('stuck2', 'B', 'small'));
  await t.throwsAsync(() => it.remove('stuck1'), { message: /did not stop on their integration thread in time: stuck1/ });
  t.is(it.threadOf('stuck2'), 0, 'not moved');
  t.false((await it.status()).some((s) => s.thread === 1 && s.integrationId === 'stuck2'), 'never started on thread 1');
});

test('an integration moved to an app whose thread is being started again runs there once it is back, and no longer on its old thread', async (t) => {
  const it = await thread1Down(t);
  // Thread 1 is down for 300 ms: a1 moves to app B, whose integrations are on thread 1.
  it.apply(spec('a1', 'B', 'large'));
  t.is((await it.status()).find((s) => s.integrationId === 'a1')?.status, 'starting', 'held for thread 1 while it starts again');
  await until('a1 and b1 run on the new thread 1', async () => (await it.status()).filter((s) => s.status === 'running' && s.statusReason === 'thread 1').length === 2);
  t.deepEqual((await it.status()).map((s) => `${s.integrationId}@${s.thread}`).sort(), ['a1@1', 'b1@1']);
});

test('a thread whose event loop stops turning, with nothing asked of it, is found by the ping, ended and started again', async (t) => {
  const { it, counted } = threads(2, { pingMs: 50, pingAnswerMs: 300 });
  await it.start();
  t.teardown(() => it.shutdown());
  it.apply(spec('a1', 'A', 'large'));
  it.apply(spec('b1', 'B', 'large'));
  await until('both run', async () => (await it.status()).length === 2);
  const before = it.workers()[1]!;
  // b2's apply blocks thread 1's event loop for good; its removal is answered once the thread is ended.
  it.apply(spec('b2', 'B', 'small', 'https://hooks.example.com/block-now'));
  await it.remove('b2');
  await until('thread 1 started again', () => it.workers()[1] !== before);
  t.deepEqual(counted, ['node.integration_thread_restarts']);
  await until('a1 and b1 run', async () => (await it.status()).filter((s) => s.status === 'running').length === 2);
  t.deepEqual((await it.status()).map((s) => `${s.integrationId}@${s.thread}`).sort(), ['a1@0', 'b1@1']);
});
