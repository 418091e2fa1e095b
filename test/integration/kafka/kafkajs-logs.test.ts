// kafkajs's logs through the node's logger, against the real broker: an error response it retries
// as a matter of course is written at debug, not at error (an error line is for an operator).
import test from 'ava';
import { PassThrough } from 'node:stream';
import { parseNodeConfig } from '../../../src/config/node-config.js';
import { createKafka } from '../../../src/kafka/kafka.js';
import { createLogger } from '../../../src/observability/logger.js';
import { brokers, uniq } from '../../helpers/infra.js';

test("asking a topic's metadata before it exists logs the broker's answer at debug, and nothing at error", async (t) => {
  const out = new PassThrough();
  const lines: { level: string; msg: string; error?: string }[] = [];
  out.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as (typeof lines)[number]);
  });
  const kafka = createKafka(parseNodeConfig({ kafka: { brokers: brokers() } }).kafka, createLogger({ level: 'debug', destination: out }));
  // No retries: one Metadata request, one error response (what `ensureTopic` sees while a new topic's leader is elected).
  const admin = kafka.admin({ retry: { retries: 0 } });
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const missing = uniq('no-such-topic');
  await t.throwsAsync(admin.fetchTopicMetadata({ topics: [missing] }), { message: /does not host this topic-partition/ });
  await new Promise((r) => setImmediate(r));
  const responses = lines.filter((l) => l.msg.startsWith('Response Metadata') && l.error === 'This server does not host this topic-partition');
  t.true(responses.length >= 1, `kafkajs logged the error response: ${JSON.stringify(lines.map((l) => [l.level, l.msg]))}`);
  t.deepEqual(new Set(responses.map((l) => l.level)), new Set(['debug']));
  t.deepEqual(lines.filter((l) => l.level === 'error'), []);
});
