import test from 'ava';
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { kafkajsLogLevel } from '../../../src/kafka/kafka.js';

const { logLevel } = kafkajs;
// kafkajs's own error construction: its Connection logs `error: e.message` of exactly these.
const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error };
const response = (code: number) => ({ message: 'Response Metadata(key: 3, version: 6)', error: createErrorFromCode(code).message });

test('a retriable error response goes to debug: a new topic without a leader yet, a coordinator that moved', (t) => {
  // Kafka protocol codes: 3 UNKNOWN_TOPIC_OR_PARTITION, 5 LEADER_NOT_AVAILABLE, 6 NOT_LEADER, 14 and 16 coordinator moving.
  for (const code of [3, 5, 6, 14, 16]) t.is(kafkajsLogLevel(logLevel.ERROR, response(code)), 'debug', `code ${code}`);
});

test('a CreateTopics answer with per-topic errors goes to debug: topics that exist count as created, any other is the caller\'s error', (t) => {
  t.is(kafkajsLogLevel(logLevel.ERROR, { message: 'Response CreateTopics(key: 19, version: 3)', error: 'Topic creation errors' }), 'debug');
  // Only that answer: the same text on another request, or another CreateTopics failure, stays.
  t.is(kafkajsLogLevel(logLevel.ERROR, { message: 'Response Metadata(key: 3, version: 6)', error: 'Topic creation errors' }), 'error');
  t.is(kafkajsLogLevel(logLevel.ERROR, { message: 'Response CreateTopics(key: 19, version: 3)', error: createErrorFromCode(29).message }), 'error');
});

test('a non-retriable error response, and every other error, stays at error', (t) => {
  // 29 TOPIC_AUTHORIZATION_FAILED, 10 MESSAGE_TOO_LARGE, 87 INVALID_RECORD: nothing retries these into success.
  for (const code of [29, 10, 87]) t.is(kafkajsLogLevel(logLevel.ERROR, response(code)), 'error', `code ${code}`);
  // A retriable message outside a response line (a crash of the consumer, say) is not touched.
  t.is(kafkajsLogLevel(logLevel.ERROR, { message: 'Crash: KafkaJSNumberOfRetriesExceeded', error: createErrorFromCode(3).message }), 'error');
  // Odd shapes are logged at their level, never dropped.
  for (const log of [{}, { message: 'Response Fetch(key: 1, version: 11)' }, { message: 'Response Fetch(key: 1, version: 11)', error: 42 }, { message: 7, error: 'x' }]) {
    t.is(kafkajsLogLevel(logLevel.ERROR, log), 'error');
  }
});

test('kafkajs\'s warning about an idempotent producer with bounded retries goes to debug (the control-topic writer\'s are bounded on purpose)', (t) => {
  t.is(kafkajsLogLevel(logLevel.WARN, { message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees' }), 'debug');
  t.is(kafkajsLogLevel(logLevel.WARN, { message: 'Limiting retries for something else' }), 'warn');
});

test('the other levels map one to one; an unknown level is logged at info', (t) => {
  t.is(kafkajsLogLevel(logLevel.WARN, response(3)), 'warn');
  t.is(kafkajsLogLevel(logLevel.INFO, {}), 'info');
  t.is(kafkajsLogLevel(logLevel.DEBUG, {}), 'debug');
  t.is(kafkajsLogLevel(99, {}), 'info');
});
