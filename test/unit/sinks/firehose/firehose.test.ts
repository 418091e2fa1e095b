// The firehose sink's pure parts and the shared AWS machinery it rests on: configuration, the
// request plan within Firehose's limits (a property), the AWS error table and the
// partial-failure loop (driven by a scripted `put`, with an instant clock).
import test from 'ava';
import fc from 'fast-check';
import { ConfigError, ErrorCode, TributaryError } from '../../../../src/errors.js';
import { planRequests } from '../../../../src/sinks/aws/chunking.js';
import { awsError, decideAws } from '../../../../src/sinks/aws/errors.js';
import { putWithPartialRetries, type EntryResult } from '../../../../src/sinks/aws/put-records-loop.js';
import { validateFirehoseConfig } from '../../../../src/sinks/firehose/config.js';
import { firehoseLimits, firehoseRecordData } from '../../../../src/sinks/firehose/request-builder.js';
import type { Clock } from '../../../../src/sinks/http/backoff.js';
import type { RecordOutcome } from '../../../../src/sinks/types.js';
import { makeRecords } from '../../../helpers/sink-compliance.js';

test('firehose config: defaults follow the PutRecordBatch limits; bad keys are named under sink', (t) => {
  const c = validateFirehoseConfig({ type: 'firehose', deliveryStreamName: 'acme-events', region: 'us-east-1' }, { local: false });
  t.like(c, { maxBatchEvents: 500, maxBatchBytes: 4 * 1024 * 1024, credentials: { type: 'default' } });
  const err = t.throws(() => validateFirehoseConfig({ type: 'firehose', deliveryStreamName: 'bad name', region: 'us-east-1' }, { local: false }));
  t.true(err instanceof ConfigError);
  t.deepEqual((err as ConfigError).issues.map((i) => i.path), ['sink.deliveryStreamName']);
});

test('firehose records: the event JSON plus a newline; raw newlines inside the JSON become spaces', (t) => {
  const [r] = makeRecords(1);
  t.is(firehoseRecordData(r!).toString(), `${r!.value.toString()}\n`);
  t.is(firehoseRecordData({ ...r!, value: Buffer.from('{"a":\n1}') }).toString(), '{"a": 1}\n');
});

test('request plan: every entry once, in order, each request within count and bytes; oversized set apart', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 1200 }), { maxLength: 300 }), fc.integer({ min: 1, max: 40 }), (sizes, maxEntries) => {
      const limits = { maxEntries, maxRequestBytes: 4000, maxEntryBytes: 1000 };
      const plan = planRequests(sizes, limits);
      const all = [...plan.requests.flat(), ...plan.oversized].sort((a, b) => a - b);
      if (all.length !== sizes.length || all.some((v, i) => v !== i)) return false;
      if (!plan.oversized.every((i) => sizes[i]! > limits.maxEntryBytes)) return false;
      const flat = plan.requests.flat();
      if (!flat.every((v, k) => k === 0 || v > flat[k - 1]!)) return false;
      return plan.requests.every((r) => r.length > 0 && r.length <= maxEntries && r.reduce((n, i) => n + sizes[i]!, 0) <= limits.maxRequestBytes);
    }),
  );
  t.deepEqual(firehoseLimits, { maxEntries: 500, maxRequestBytes: 4 * 1024 * 1024, maxEntryBytes: 1000 * 1024 });
});

test('aws errors: names decide first, then the status; unknown answers are retried', (t) => {
  t.like(decideAws('NoSuchBucket', 404), { kind: 'misconfigured', code: 'sink_not_found' });
  t.like(decideAws('AccessDenied', 403), { kind: 'misconfigured', code: 'sink_auth' });
  t.like(decideAws('InvalidAccessKeyId', 403), { kind: 'misconfigured', code: 'sink_auth' });
  t.like(decideAws('ResourceNotFoundException', 400), { kind: 'misconfigured', code: 'sink_not_found' });
  t.like(decideAws('SlowDown', 503), { kind: 'retry', code: 'sink_rate_limited' });
  t.like(decideAws('ProvisionedThroughputExceededException', undefined), { kind: 'retry' });
  t.like(decideAws('ServiceUnavailableException', 503), { kind: 'retry', code: 'sink_server' });
  t.like(decideAws('InvalidArgument', 400), { kind: 'rejected', code: 'sink_rejected' });
  t.like(decideAws('EntityTooLarge', 400), { kind: 'rejected', code: 'sink_too_large' });
  t.like(decideAws('Whatever', 502), { kind: 'retry' });
  t.like(decideAws(undefined, 301), { kind: 'misconfigured', code: 'sink_redirect' });
  t.is(decideAws('Whatever', undefined), undefined);
});

test('aws errors: network failures are retryable, bugs stay bugs, aborts stay aborts', (t) => {
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  t.is((awsError(refused, 'x') as TributaryError).code, ErrorCode.sinkNetwork);
  const bug = new TypeError('x is not a function');
  t.is(awsError(bug, 'x'), bug);
  const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
  t.is(awsError(abort, 'x'), abort);
  const sdk = Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
  const mapped = awsError(sdk, 'PutRecordBatch to s') as TributaryError;
  t.is(mapped.kind, 'misconfiguration');
  t.is(mapped.status, 400);
  t.is(mapped.cause, sdk);
});

const instant: Clock = { now: () => 0, sleep: async () => undefined };
const retry = { initialMs: 1, maxMs: 1, multiplier: 2, maxRetryAgeMs: 1_000, maxRecordAttempts: 3 };

async function run(n: number, script: (call: number, indices: readonly number[]) => EntryResult[] | Error, clock: Clock = instant) {
  const outcomes = new Array<RecordOutcome>(n);
  const stats = { requests: 0, retries: 0 };
  const calls: number[][] = [];
  await putWithPartialRetries(
    Array.from({ length: n }, (_, i) => i),
    {
      what: 'test',
      put: async (indices) => {
        calls.push([...indices]);
        const r = script(calls.length, indices);
        if (r instanceof Error) throw r;
        return r;
      },
      retry,
      deadline: 1_000,
      clock,
      random: () => 0.5,
    },
    outcomes,
    stats,
    new AbortController().signal,
  );
  return { outcomes, stats, calls };
}

test('put loop: only failed records are resent, until each is delivered once', async (t) => {
  // Property: for any pattern of transient per-record failures over a few rounds, every record is
  // sent until delivered and never after.
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 30 }), fc.array(fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), { maxLength: 4 }), async (n, rounds) => {
      const delivered = new Map<number, number>();
      const { outcomes } = await run(n, (call, indices) =>
        indices.map((i) => {
          const fail = rounds[call - 1]?.[i] ?? false;
          if (fail) return { ok: false, errorCode: 'ServiceUnavailableException' };
          delivered.set(i, (delivered.get(i) ?? 0) + 1);
          return { ok: true };
        }),
      );
      return outcomes.every((o) => o.status === 'delivered') && delivered.size === n && [...delivered.values()].every((c) => c === 1);
    }),
  );
  t.pass();
});

test('put loop: an unknown per-record code is rejected after maxRecordAttempts; a misconfiguration code throws', async (t) => {
  const { outcomes, calls } = await run(3, (_, indices) => indices.map((i) => (i === 1 ? { ok: false, errorCode: 'Mystery' } : { ok: true })));
  t.deepEqual(calls, [[0, 1, 2], [1], [1]]);
  t.like(outcomes[1], { status: 'rejected', attempts: 3 });
  const err = await t.throwsAsync(run(2, () => [{ ok: true }, { ok: false, errorCode: 'KMSAccessDeniedException' }]));
  t.is((err as TributaryError).kind, 'misconfiguration');
});

test('put loop: a request refused as a whole is bisected down to the refused record', async (t) => {
  const refused = Object.assign(new Error('bad record'), { name: 'InvalidArgumentException', $metadata: { httpStatusCode: 400 } });
  const { outcomes } = await run(8, (_, indices) => (indices.includes(5) ? refused : indices.map(() => ({ ok: true }))));
  outcomes.forEach((o, i) => t.is(o.status, i === 5 ? 'rejected' : 'delivered'));
});

test('put loop: past the retry budget the pending records are rejected as retries exhausted', async (t) => {
  let now = 0;
  const clock: Clock = { now: () => now, sleep: async (ms) => void (now += ms + 400) };
  const { outcomes, stats } = await run(2, (_, indices) => indices.map(() => ({ ok: false, errorCode: 'InternalFailure' })), clock);
  t.true(outcomes.every((o) => o.status === 'rejected' && o.error.code === 'sink_retries_exhausted'));
  t.true(stats.requests >= 2);
});

test('put loop: a malformed answer (wrong number of results) resends everything rather than guess', async (t) => {
  const { outcomes, calls } = await run(3, (call, indices) => (call === 1 ? [{ ok: true }] : indices.map(() => ({ ok: true }))));
  t.deepEqual(calls, [[0, 1, 2], [0, 1, 2]]);
  t.true(outcomes.every((o) => o.status === 'delivered'));
  t.true(new TributaryError(ErrorCode.sinkServer, 'x').kind === 'retryable');
});
