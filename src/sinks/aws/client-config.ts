// The options every AWS SDK client of a sink is built with: one keep-alive HTTP/1.1 handler with
// the configured timeouts, the SDK's own retries off (the sink's backoff and retry budget decide,
// and an abort stops them), and credentials from credentials.ts.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { SinkContext } from '../types.js';
import type { AwsConnectionConfig } from './config.js';
import { assumeRoleProvider, baseCredentials, type AwsCredentials, type CredentialProvider } from './credentials.js';

/** Seams for tests; production passes none. */
export interface AwsClientSeams {
  /** STS endpoint for assumeRole (a loopback STS stand-in). */
  stsEndpoint?: string;
}

export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials?: AwsCredentials | CredentialProvider;
  requestHandler: NodeHttpHandler;
  maxAttempts: 1;
}

export interface AwsClientSetup {
  clientConfig: AwsClientConfig;
  /** Frees sockets and the STS client. */
  close(): void;
}

export async function awsClientSetup(config: AwsConnectionConfig, ctx: SinkContext, seams: AwsClientSeams = {}): Promise<AwsClientSetup> {
  const agentOptions = { keepAlive: true, maxSockets: config.maxConnections };
  const httpAgent = new HttpAgent(agentOptions);
  const httpsAgent = new HttpsAgent(agentOptions);
  const requestHandler = new NodeHttpHandler({
    httpAgent,
    httpsAgent,
    connectionTimeout: Math.min(config.timeoutMs, 10_000),
    requestTimeout: config.timeoutMs,
  });
  const base = await baseCredentials(config.credentials, ctx.resolveSecret);
  const role = config.assumeRole
    ? assumeRoleProvider({
        role: config.assumeRole,
        region: config.region,
        integrationId: ctx.integrationId,
        base,
        requestHandler,
        ...(seams.stsEndpoint ? { stsEndpoint: seams.stsEndpoint } : {}),
      })
    : undefined;
  const credentials = role?.provider ?? base;
  return {
    clientConfig: {
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
      requestHandler,
      maxAttempts: 1,
    },
    close: () => {
      role?.close();
      requestHandler.destroy();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
