import test from 'ava';
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { isCoordinatorMoving } from '../../../src/kafka/raw-kafka.js';
import { retryLookup } from '../../../src/kafka/tail-reader.js';

const { KafkaJSConnectionError } = kafkajs;
// The function kafkajs's response parsers throw through: an error as the broker's code makes it.
const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error };

test('isCoordinatorMoving: the coordinator errors kafkajs raises, nothing else', (t) => {
  // Codes from the Kafka protocol: 14 COORDINATOR_LOAD_IN_PROGRESS, 15 COORDINATOR_NOT_AVAILABLE, 16 NOT_COORDINATOR.
  for (const code of [14, 15, 16]) t.true(isCoordinatorMoving(createErrorFromCode(code)), `code ${code}`);
  t.false(isCoordinatorMoving(createErrorFromCode(3)), 'UNKNOWN_TOPIC_OR_PARTITION');
  t.false(isCoordinatorMoving(createErrorFromCode(29)), 'TOPIC_AUTHORIZATION_FAILED');
  t.false(isCoordinatorMoving(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED')));
  for (const v of [undefined, null, 'NOT_COORDINATOR_FOR_GROUP', new TypeError('x'), { type: 'SOMETHING' }]) t.false(isCoordinatorMoving(v));
});

test('retryLookup retries what retryIf accepts, up to the attempts, and rethrows anything else at once', async (t) => {
  let calls = 0;
  const moving = Object.assign(new Error('not the coordinator'), { type: 'NOT_COORDINATOR_FOR_GROUP' });
  t.is(await retryLookup(async () => (++calls < 3 ? Promise.reject(moving) : 'ok'), 5, isCoordinatorMoving), 'ok');
  t.is(calls, 3);

  calls = 0;
  const down = new Error('ECONNREFUSED');
  await t.throwsAsync(() => retryLookup(async () => (++calls, Promise.reject(down)), 5, isCoordinatorMoving), { is: down });
  t.is(calls, 1, 'an error retryIf refuses is not retried');

  calls = 0;
  await t.throwsAsync(() => retryLookup(async () => (++calls, Promise.reject(moving)), 2, isCoordinatorMoving), { is: moving });
  t.is(calls, 2, 'the last attempt rethrows');
});
