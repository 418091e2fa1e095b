// Where an AWS sink's credentials come from: the SDK's default chain, static keys resolved from
// secret references, and optionally a role assumed with an external id, cached until near expiry.
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import { ErrorCode, TributaryError } from '../../errors.js';
import type { SecretRef } from '../../control/secrets.js';
import type { AssumeRoleConfig, AwsCredentialsConfig } from './config.js';
import { awsError } from './errors.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type CredentialProvider = () => Promise<AwsCredentials>;

/** Refresh an assumed role's credentials this long before they expire. */
export const refreshMarginMs = 5 * 60_000;

/** Static keys resolved once per build; undefined means "let the SDK use its default chain". */
export async function baseCredentials(
  config: AwsCredentialsConfig,
  resolveSecret: (ref: SecretRef) => Promise<string>,
): Promise<AwsCredentials | undefined> {
  if (config.type === 'default') return undefined;
  const creds: AwsCredentials = {
    accessKeyId: await resolveSecret(config.accessKeyId),
    secretAccessKey: await resolveSecret(config.secretAccessKey),
  };
  if (config.sessionToken) creds.sessionToken = await resolveSecret(config.sessionToken);
  return creds;
}

export interface AssumeRoleOptions {
  role: AssumeRoleConfig;
  region: string;
  integrationId: string;
  /** Credentials used to call STS; undefined = the default chain (the node's task role). */
  base: AwsCredentials | undefined;
  requestHandler: NodeHttpHandler;
  /** STS endpoint override (tests, VPC endpoints). */
  stsEndpoint?: string;
  now?: () => number;
}

/** RoleSessionName allows [\w+=,.@-]{2,64}: the integration id, squeezed into that alphabet. */
export function sessionNameFor(integrationId: string): string {
  return `tributary-${integrationId.replace(/[^\w+=,.@-]/g, '_')}`.slice(0, 64);
}

/**
 * A provider that calls STS AssumeRole (with the ExternalId the customer's trust policy requires)
 * and caches the result until `refreshMarginMs` before it expires; concurrent callers share one call.
 */
export function assumeRoleProvider(o: AssumeRoleOptions): { provider: CredentialProvider; close(): void } {
  const now = o.now ?? Date.now;
  const sts = new STSClient({
    region: o.region,
    ...(o.base ? { credentials: o.base } : {}),
    ...(o.stsEndpoint ? { endpoint: o.stsEndpoint } : {}),
    requestHandler: o.requestHandler,
    maxAttempts: 3,
  });
  let cached: AwsCredentials | undefined;
  let inFlight: Promise<AwsCredentials> | undefined;

  const fetchCredentials = async (): Promise<AwsCredentials> => {
    try {
      const out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: o.role.roleArn,
          ExternalId: o.role.externalId,
          RoleSessionName: o.role.sessionName ?? sessionNameFor(o.integrationId),
          DurationSeconds: o.role.durationSeconds,
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) {
        throw new TributaryError(ErrorCode.sinkAuth, `STS AssumeRole for ${o.role.roleArn} returned no credentials`);
      }
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
        ...(c.Expiration ? { expiration: new Date(c.Expiration) } : {}),
      };
    } catch (err) {
      // The role ARN is not secret and names what the customer must fix; keys never appear here.
      throw awsError(err, `assuming role ${o.role.roleArn}`);
    }
  };

  const fresh = (c: AwsCredentials | undefined): c is AwsCredentials =>
    c !== undefined && (c.expiration === undefined || c.expiration.getTime() - refreshMarginMs > now());

  const provider: CredentialProvider = async () => {
    if (fresh(cached)) return cached;
    inFlight ??= fetchCredentials().then(
      (c) => {
        cached = c;
        inFlight = undefined;
        return c;
      },
      (err: unknown) => {
        inFlight = undefined;
        throw err;
      },
    );
    return inFlight;
  };
  return { provider, close: () => sts.destroy() };
}
