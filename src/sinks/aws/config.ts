// Configuration shared by the AWS sinks (s3, firehose, kinesis): region, endpoint override,
// credentials (default chain, static references, or an assumed role with an external id), retry.
import { z } from 'zod';
import { isInline, secretRefSchema, type SecretRef } from '../../control/secrets.js';
import type { ValidateContext } from '../types.js';

type Issue = { path: string; message: string };

export const awsRegionSchema = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region such as us-east-1');

export const awsCredentialsSchema = z.discriminatedUnion('type', [
  /** The SDK's default provider chain: environment, web identity, ECS task role, instance profile. */
  z.strictObject({ type: z.literal('default') }),
  /** Access keys by reference (inline values in local mode only). */
  z.strictObject({
    type: z.literal('static'),
    accessKeyId: secretRefSchema,
    secretAccessKey: secretRefSchema,
    sessionToken: secretRefSchema.optional(),
  }),
]);
export type AwsCredentialsConfig = z.infer<typeof awsCredentialsSchema>;

export const assumeRoleSchema = z.strictObject({
  roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN (arn:aws:iam::123456789012:role/name)'),
  /** Confused-deputy protection: the customer's trust policy requires this value. Not a secret. */
  externalId: z.string().regex(/^[\w+=,.@:/-]{2,1224}$/, 'must be 2-1224 characters of [A-Za-z0-9+=,.@:/_-]'),
  sessionName: z.string().regex(/^[\w+=,.@-]{2,64}$/, 'must be 2-64 characters of [A-Za-z0-9+=,.@_-]').optional(),
  durationSeconds: z.number().int().min(900).max(43_200).default(3_600),
});
export type AssumeRoleConfig = z.infer<typeof assumeRoleSchema>;

export const awsRetrySchema = z
  .strictObject({
    initialMs: z.number().int().min(1).max(600_000).default(200),
    maxMs: z.number().int().min(1).max(3_600_000).default(30_000),
    multiplier: z.number().min(1).max(10).default(2),
    /** After retrying this long, the records still pending are rejected (DLQ) with sink_retries_exhausted. */
    maxRetryAgeMs: z.number().int().min(0).max(7 * 24 * 3_600_000).default(6 * 3_600_000),
    /** A record refused with an error code that is not known to be transient is rejected after this many tries. */
    maxRecordAttempts: z.number().int().min(1).max(100).default(3),
  })
  .prefault({});
export type AwsRetryConfig = z.infer<typeof awsRetrySchema>;

/** The keys every AWS sink schema spreads in. */
export const awsConnectionShape = {
  region: awsRegionSchema,
  /** Overrides the service endpoint: an AWS VPC/FIPS endpoint, or (local mode) a loopback server. */
  endpoint: z.string().min(1).max(2048).optional(),
  credentials: awsCredentialsSchema.default({ type: 'default' }),
  assumeRole: assumeRoleSchema.optional(),
  /** Per request: connect, send and response. */
  timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
  /** Parallel connections to the service. */
  maxConnections: z.number().int().min(1).max(64).default(8),
  retry: awsRetrySchema,
};

export interface AwsConnectionConfig {
  region: string;
  endpoint?: string | undefined;
  credentials: AwsCredentialsConfig;
  assumeRole?: AssumeRoleConfig | undefined;
  timeoutMs: number;
  maxConnections: number;
  retry: AwsRetryConfig;
}

// An endpoint override is a customer-chosen URL the node will sign requests to: in production it
// may only name an AWS host over https, so it cannot aim the node at internal addresses (SSRF).
const awsHost = /(^|\.)(amazonaws\.com|amazonaws\.com\.cn|api\.aws)$/i;
const loopbackHost = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/i;

/** Pure: what a schema cannot say about the shared keys. Paths are relative to `sink`. */
export function awsConnectionIssues(config: AwsConnectionConfig, ctx: ValidateContext): Issue[] {
  const issues: Issue[] = [];
  if (config.endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(config.endpoint);
    } catch {
      issues.push({ path: 'endpoint', message: 'must be an absolute URL' });
    }
    if (url) {
      if (url.username || url.password) issues.push({ path: 'endpoint', message: 'must not contain userinfo' });
      else if (url.pathname !== '/' || url.search || url.hash) issues.push({ path: 'endpoint', message: 'must be scheme://host[:port] only' });
      else if (ctx.local && loopbackHost.test(url.hostname) && (url.protocol === 'http:' || url.protocol === 'https:')) {
        // local mode: a loopback S3/Kinesis/Firehose stand-in
      } else if (url.protocol !== 'https:') issues.push({ path: 'endpoint', message: ctx.local ? 'must be https, or http to loopback' : 'must be https' });
      else if (!awsHost.test(url.hostname)) issues.push({ path: 'endpoint', message: 'must be an AWS endpoint (*.amazonaws.com, *.amazonaws.com.cn, *.api.aws)' });
    }
  }
  if (config.retry.maxMs < config.retry.initialMs) issues.push({ path: 'retry.maxMs', message: 'must be at least retry.initialMs' });
  if (!ctx.local && config.credentials.type === 'static') {
    const refs: [string, SecretRef | undefined][] = [
      ['credentials.accessKeyId', config.credentials.accessKeyId],
      ['credentials.secretAccessKey', config.credentials.secretAccessKey],
      ['credentials.sessionToken', config.credentials.sessionToken],
    ];
    for (const [path, ref] of refs) {
      if (ref && isInline(ref)) issues.push({ path, message: 'inline secret values are allowed in local mode only; use {"ref": "env:NAME"} or {"ref": "file:/path"}' });
    }
  }
  return issues;
}

export const prefixed = (issues: readonly Issue[]): Issue[] => issues.map((i) => ({ path: i.path ? `sink.${i.path}` : 'sink', message: i.message }));
