// The worker adapter's episode bookkeeping: trouble a running task retries by itself is reported
// once per episode (not once per retry), progress after it is one recovery, and a crash is a
// crash. nact runs in process; the tasks are plain promises.
import test from 'ava';
import { dispatch, start, stop, type Ref } from 'nact';
import { TributaryError, ErrorCode } from '../../../src/errors.js';
import { restartPolicySchema } from '../../../src/supervision/restart-policy.js';
import { spawnWorker, type WorkerMsg, type WorkerReport } from '../../../src/supervision/nact-adapter.js';

interface Harness {
  reports: WorkerReport[];
  healthy: () => void;
  degraded: (e: unknown) => void;
  fail: (e: unknown) => void;
  ref: Ref<WorkerMsg>;
  starts: () => number;
  close: () => void;
}

async function harness(initiallyFaulted = false): Promise<Harness> {
  const system = start();
  const reports: WorkerReport[] = [];
  let cb: { healthy: () => void; degraded: (e: unknown) => void; fail: (e: unknown) => void } | undefined;
  let starts = 0;
  const ref = spawnWorker(system, {
    name: 'source',
    policy: restartPolicySchema.parse({ initialDelayMs: 10, maxDelayMs: 10 }),
    report: (r) => reports.push(r),
    fingerprintParts: ['connect'],
    initiallyFaulted,
    start: async (healthy, degraded) => {
      starts += 1;
      let fail!: (e: unknown) => void;
      const done = new Promise<void>((_resolve, reject) => (fail = reject));
      done.catch(() => undefined);
      cb = { healthy, degraded, fail };
      return { done, stop: async () => undefined };
    },
  });
  dispatch(ref, { type: 'start' });
  await waitFor(() => cb !== undefined);
  return {
    reports,
    healthy: () => cb!.healthy(),
    degraded: (e) => cb!.degraded(e),
    fail: (e) => cb!.fail(e),
    ref,
    starts: () => starts,
    close: () => stop(system),
  };
}

async function waitFor(cond: () => boolean, ms = 2_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const unavailable = () => new TributaryError(ErrorCode.connectServer, 'Connect answered 503 Service Unavailable', { status: 503 });

test('a degraded task is reported once per episode, with its class and fingerprint, and progress ends the episode', async (t) => {
  const h = await harness();
  t.teardown(h.close);
  h.healthy(); // progress with no open episode: nothing to report
  h.degraded(unavailable());
  h.degraded(unavailable());
  h.degraded(unavailable());
  t.is(h.reports.length, 1);
  const r = h.reports[0]!;
  t.is(r.type, 'workerDegraded');
  if (r.type !== 'workerDegraded') return;
  t.is(r.kind, 'retryable');
  t.regex(r.fingerprint, /connect/);
  h.healthy();
  h.healthy();
  t.deepEqual(
    h.reports.map((x) => x.type),
    ['workerDegraded', 'workerHealthy'],
  );
  // A new blip after the recovery is a new episode.
  h.degraded(unavailable());
  t.deepEqual(
    h.reports.map((x) => x.type),
    ['workerDegraded', 'workerHealthy', 'workerDegraded'],
  );
  t.is(h.starts(), 1, 'degradation never restarts the task');
});

test('a crash during a degraded episode is still reported and restarts the task; one recovery ends both', async (t) => {
  const h = await harness();
  t.teardown(h.close);
  h.degraded(unavailable());
  h.fail(unavailable());
  await waitFor(() => h.starts() === 2);
  t.deepEqual(
    h.reports.map((x) => x.type),
    ['workerDegraded', 'workerFaulted'],
  );
  h.degraded(unavailable()); // the episode is still open: no second report
  h.healthy();
  t.deepEqual(
    h.reports.map((x) => x.type),
    ['workerDegraded', 'workerFaulted', 'workerHealthy'],
  );
});

test('a worker replacing a faulted one reports its first progress as the recovery and a degradation adds nothing', async (t) => {
  const h = await harness(true);
  t.teardown(h.close);
  h.degraded(unavailable());
  t.is(h.reports.length, 0);
  h.healthy();
  t.deepEqual(
    h.reports.map((x) => x.type),
    ['workerHealthy'],
  );
});

test('a stopped worker reports no degradation', async (t) => {
  const h = await harness();
  t.teardown(h.close);
  dispatch(h.ref, { type: 'stop' });
  await new Promise((r) => setTimeout(r, 50));
  h.degraded(unavailable());
  t.is(h.reports.length, 0);
});
