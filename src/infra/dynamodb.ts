// The embedded DynamoDB Local (AWS's own server, from Maven Central) with its sqlite4java natives.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { startJavaServer } from './java-server.js';
import type { StartedServer } from './kafka.js';
import { fetchJars } from './maven.js';
import { dynamodbPom } from './paths.js';
import { choosePort } from './ports.js';

export interface DynamoStartOptions {
  cacheDir: string;
  dir: string;
  port: number;
  heapMb: number;
  /** Keep tables on disk in `dir` (local mode) instead of in memory (tests). */
  persistent: boolean;
  quiet?: boolean;
}

export async function startDynamo(o: DynamoStartOptions): Promise<StartedServer> {
  const { libDir } = await fetchJars(dynamodbPom, o.cacheDir, 'dynamodb', o.quiet);
  const port = await choosePort(o.port, 'DynamoDB Local');
  mkdirSync(o.dir, { recursive: true });
  const endpoint = `http://127.0.0.1:${port}`;
  const storage = o.persistent ? ['-dbPath', o.dir, '-sharedDb'] : ['-inMemory', '-sharedDb'];
  const logFile = join(o.dir, 'dynamodb.out');
  const pid = await startJavaServer({
    name: `dynamodb ${endpoint}`,
    cwd: o.dir,
    logFile,
    quiet: o.quiet ?? false,
    args: [
      `-Xmx${o.heapMb}m`,
      `-Dsqlite4java.library.path=${libDir}`,
      '-Djava.awt.headless=true',
      '-cp',
      `${libDir}/*`,
      'com.amazonaws.services.dynamodbv2.local.main.ServerRunner',
      '-port',
      String(port),
      ...storage,
    ],
    probe: () => dynamoAnswers(endpoint),
  });
  return { pid, address: endpoint, dir: o.dir, logFile };
}

export async function dynamoAnswers(endpoint: string): Promise<boolean> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
    return true;
  } finally {
    client.destroy();
  }
}
