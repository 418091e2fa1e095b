// The send loop over a scripted transport and a virtual clock: no sockets, no real waiting.
import test from 'ava';
import { ErrorCode, TributaryError, classify } from '../../../../src/errors.js';
import { defaultBackoff, type Clock } from '../../../../src/sinks/http/backoff.js';
import { defaultRetryLogic } from '../../../../src/sinks/http/retry-logic.js';
import { sendWithRetry } from '../../../../src/sinks/http/send-loop.js';
import type { HttpRequest, HttpResponse, HttpTransport } from '../../../../src/sinks/http/transport.js';

type Step = HttpResponse | Error;

function scripted(steps: Step[]): HttpTransport & { calls: number } {
  const t = {
    calls: 0,
    async send(): Promise<HttpResponse> {
      const step = steps[Math.min(t.calls, steps.length - 1)]!;
      t.calls++;
      if (step instanceof Error) throw step;
      return step;
    },
    async close() {},
  };
  return t;
}

function virtualClock(): Clock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    async sleep(ms, signal) {
      if (signal.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      slept.push(ms);
      now += ms;
    },
  };
}

const res = (status: number, headers: Record<string, string> = {}, body = ''): HttpResponse => ({ status, headers, body });
const req: HttpRequest = { method: 'POST', url: new URL('https://hooks.example.com/x'), headers: {} };
const never = new AbortController().signal;

const options = (clock: Clock, maxRetryAgeMs = defaultBackoff.maxRetryAgeMs) => ({
  retryLogic: defaultRetryLogic,
  backoff: { ...defaultBackoff, initialMs: 100, maxMs: 1000 },
  deadline: clock.now() + maxRetryAgeMs,
  clock,
  random: () => 0.5,
});

test('retries transient statuses and network errors, then delivers', async (t) => {
  const clock = virtualClock();
  const transport = scripted([res(503), Object.assign(new Error('reset'), { code: 'ECONNRESET' }), res(500), res(200)]);
  const out = await sendWithRetry(transport, req, options(clock), never);
  t.deepEqual(out, { outcome: 'delivered', status: 200, attempts: 4 });
  t.deepEqual(clock.slept, [50, 100, 200], 'full jitter with random 0.5 over 100, 200, 400');
});

test('Retry-After (seconds) decides the wait', async (t) => {
  const clock = virtualClock();
  const out = await sendWithRetry(scripted([res(429, { 'retry-after': '7' }), res(204)]), req, options(clock), never);
  t.is(out.outcome, 'delivered');
  t.deepEqual(clock.slept, [7000]);
});

test('413 and 400 are returned to the caller (split / bisect), without retrying', async (t) => {
  const clock = virtualClock();
  const a = await sendWithRetry(scripted([res(413, {}, 'too big')]), req, options(clock), never);
  t.like(a, { outcome: 'tooLarge', status: 413, body: 'too big', code: ErrorCode.sinkTooLarge, attempts: 1 });
  const b = await sendWithRetry(scripted([res(422, {}, 'bad')]), req, options(clock), never);
  t.like(b, { outcome: 'rejected', status: 422, code: ErrorCode.sinkRejected, attempts: 1 });
  t.deepEqual(clock.slept, []);
});

test('401/403/404/3xx throw a misconfiguration error at once', async (t) => {
  for (const status of [401, 403, 404, 302]) {
    const transport = scripted([res(status, {}, 'nope')]);
    const err = await t.throwsAsync(sendWithRetry(transport, req, options(virtualClock()), never));
    t.is(classify(err), 'misconfiguration', String(status));
    t.is((err as TributaryError).status, status);
    t.is(transport.calls, 1);
  }
});

test('the retry budget ends in `exhausted` with sink_retries_exhausted and the last status', async (t) => {
  const clock = virtualClock();
  const out = await sendWithRetry(scripted([res(503, {}, 'down')]), req, options(clock, 10_000), never);
  t.is(out.outcome, 'exhausted');
  if (out.outcome === 'exhausted') {
    t.is(out.error.code, ErrorCode.sinkRetriesExhausted);
    t.is(out.error.kind, 'permanent');
    t.is(out.status, 503);
    t.is(out.body, 'down');
    t.true(out.attempts > 3);
  }
  t.true(clock.slept.reduce((a, b) => a + b, 0) <= 10_000);
});

test('an SSRF refusal or a bug is thrown, never retried', async (t) => {
  const ssrf = new TributaryError(ErrorCode.ssrfBlocked, 'refused');
  const t1 = scripted([ssrf]);
  t.is(await t.throwsAsync(sendWithRetry(t1, req, options(virtualClock()), never)), ssrf);
  t.is(t1.calls, 1);
  const bug = new TypeError('undefined is not a function');
  t.is(await t.throwsAsync(sendWithRetry(scripted([bug]), req, options(virtualClock()), never)), bug);
});

test('an aborted signal stops the loop with an AbortError', async (t) => {
  const ctrl = new AbortController();
  const clock = virtualClock();
  const transport: HttpTransport = {
    async send() {
      ctrl.abort();
      return res(503);
    },
    async close() {},
  };
  const err = await t.throwsAsync(sendWithRetry(transport, req, options(clock), ctrl.signal));
  t.is(err?.name, 'AbortError');
});

test('a request factory is called once per attempt (fresh signatures)', async (t) => {
  let built = 0;
  const out = await sendWithRetry(scripted([res(503), res(503), res(200)]), () => (built++, req), options(virtualClock()), never);
  t.is(out.outcome, 'delivered');
  t.is(built, 3);
});
