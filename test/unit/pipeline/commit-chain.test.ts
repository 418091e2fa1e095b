import test from 'ava';
import fc from 'fast-check';
import { CommitChain } from '../../../src/pipeline/commit-chain.js';

/** A commit function whose calls the test resolves or rejects by hand. */
function manualCommits() {
  const calls: { done: string; resolve: () => void; reject: (err: Error) => void }[] = [];
  const commit = (done: string) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ done, resolve, reject });
    });
  return { calls, commit };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

test('a commit goes out on the next tick; positions pushed while it is in flight collapse into the newest', async (t) => {
  const { calls, commit } = manualCommits();
  const chain = new CommitChain(commit);
  chain.push('9');
  await tick();
  t.deepEqual(
    calls.map((c) => c.done),
    ['9'],
  );
  chain.push('19');
  chain.push('29');
  await tick();
  t.is(calls.length, 1, 'nothing more goes out before the commit in flight lands');
  calls[0]!.resolve();
  await tick();
  t.deepEqual(
    calls.map((c) => c.done),
    ['9', '29'],
  );
  let settled = false;
  const settling = chain.settle().then(() => {
    settled = true;
  });
  await tick();
  t.false(settled, 'settle waits for the commit still in flight');
  calls[1]!.resolve();
  await settling;
  t.true(settled);
});

test('settle with nothing pushed resolves', async (t) => {
  const chain = new CommitChain(async () => t.fail('no commit expected'));
  await chain.settle();
  t.notThrows(() => chain.check());
});

test('a failed commit is thrown by check and settle, and nothing after it is committed', async (t) => {
  const { calls, commit } = manualCommits();
  const chain = new CommitChain(commit);
  chain.push('9');
  await tick();
  chain.push('19');
  t.notThrows(() => chain.check(), 'nothing has failed yet');
  calls[0]!.reject(new Error('rebalance in progress'));
  await tick();
  t.throws(() => chain.check(), { message: 'rebalance in progress' });
  chain.push('29');
  await t.throwsAsync(chain.settle(), { message: 'rebalance in progress' });
  t.deepEqual(
    calls.map((c) => c.done),
    ['9'],
    'the positions pushed after the failed one are never committed',
  );
});

test('a commit function that throws before returning a promise fails the chain the same way', async (t) => {
  const chain = new CommitChain((): Promise<void> => {
    throw new Error('not a promise');
  });
  chain.push('1');
  await t.throwsAsync(chain.settle(), { message: 'not a promise' });
});

test('whatever the timing, commits go out in push order, never backwards, and settle ends on the last pushed', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), fc.nat({ max: 3 })), { minLength: 1, maxLength: 40 }), async (steps) => {
      const committed: number[] = [];
      let inFlight = 0;
      let overlapped = false;
      const chain = new CommitChain(async (done) => {
        inFlight += 1;
        if (inFlight > 1) overlapped = true;
        for (let i = 0; i < Number(done) % 3; i++) await tick();
        committed.push(Number(done));
        inFlight -= 1;
      });
      let position = 0;
      for (const [gain, pause] of steps) {
        position += gain;
        chain.push(String(position));
        for (let i = 0; i < pause; i++) await tick();
      }
      await chain.settle();
      return !overlapped && committed.every((c, i) => i === 0 || c > committed[i - 1]!) && committed[committed.length - 1] === position;
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('ready waits while a position is queued behind the commit in flight, not for that position itself', async (t) => {
  const { calls, commit } = manualCommits();
  const chain = new CommitChain(commit);
  await chain.ready();
  chain.push('9');
  await tick();
  await chain.ready();
  t.pass('one commit in flight and nothing queued: a next chunk may go');
  chain.push('19');
  let ready = false;
  const waiting = chain.ready().then(() => {
    ready = true;
  });
  await tick();
  t.false(ready, 'a chunk is delivered and another queued behind the commit in flight');
  calls[0]!.resolve();
  await waiting;
  t.deepEqual(
    calls.map((c) => c.done),
    ['9', '19'],
    'ready resolves once the queued position is the one in flight',
  );
  calls[1]!.resolve();
  await chain.settle();
});
