// Addresses of the servers the test runner started (test/run.ts), for integration and e2e tests.
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Kafka, logLevel } from 'kafkajs';

export function brokers(): string[] {
  const v = process.env.KAFKA_BROKERS;
  if (!v) throw new Error('KAFKA_BROKERS is not set: run integration tests through `npm test` (test/run.ts starts the servers)');
  return v.split(',');
}

export function dynamoEndpoint(): string {
  const v = process.env.DYNAMODB_ENDPOINT;
  if (!v) throw new Error('DYNAMODB_ENDPOINT is not set: run integration tests through `npm test` (test/run.ts starts the servers)');
  return v;
}

/** A unique suffix so each test has its own topics, groups and tables. */
export function uniq(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function testKafka(clientId = uniq('test')): Kafka {
  return new Kafka({ clientId, brokers: brokers(), logLevel: logLevel.NOTHING });
}

export function testDynamo(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: dynamoEndpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
