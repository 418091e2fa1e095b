// AWS service errors mapped onto the one error module (STYLE.md: outcomes by type, decided in
// one place). Error names first (they are the documented contract), HTTP status as the fallback.
import { classify, ErrorCode, TributaryError, errorMessage, type ErrorCode as Code } from '../../errors.js';

/** Credentials missing, wrong, expired, or not allowed to do this: a person must act. */
const authNames = new Set([
  'AccessDenied', 'AccessDeniedException', 'Forbidden', 'InvalidAccessKeyId', 'SignatureDoesNotMatch',
  'UnrecognizedClientException', 'InvalidSignatureException', 'InvalidClientTokenId', 'ExpiredToken',
  'ExpiredTokenException', 'MissingAuthenticationToken', 'MissingAuthenticationTokenException',
  'IncompleteSignature', 'IncompleteSignatureException', 'InvalidToken', 'TokenRefreshRequired',
  'KMSAccessDeniedException', 'RegionDisabledException', 'CredentialsProviderError',
]);
/** The bucket or stream is not there (or not in this region). */
const notFoundNames = new Set(['NoSuchBucket', 'NotFound', 'ResourceNotFoundException', 'NoSuchKey']);
/** The resource exists but cannot take data as configured. */
const misconfiguredNames = new Set([
  'PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException', 'InvalidBucketName',
  'AccountProblem', 'AllAccessDisabled', 'InvalidObjectState', 'InvalidStorageClass', 'NotSignedUp', 'OptInRequired',
  'KMSDisabledException', 'KMSInvalidStateException', 'KMSNotFoundException', 'KMSOptInRequired',
  'InvalidKMSResourceException', 'ResourceInUseException', 'InvalidEncryptionAlgorithmError',
  'XAmzContentSHA256Mismatch',
]);
/** Transient by definition: throttling, overload, server-side trouble. */
const retryNames = new Map<string, Code>([
  ['SlowDown', ErrorCode.sinkRateLimited],
  ['Throttling', ErrorCode.sinkRateLimited],
  ['ThrottlingException', ErrorCode.sinkRateLimited],
  ['ThrottledException', ErrorCode.sinkRateLimited],
  ['TooManyRequestsException', ErrorCode.sinkRateLimited],
  ['RequestLimitExceeded', ErrorCode.sinkRateLimited],
  ['ProvisionedThroughputExceededException', ErrorCode.sinkRateLimited],
  ['LimitExceededException', ErrorCode.sinkRateLimited],
  ['KMSThrottlingException', ErrorCode.sinkRateLimited],
  ['ServiceUnavailable', ErrorCode.sinkServer],
  ['ServiceUnavailableException', ErrorCode.sinkServer],
  ['InternalError', ErrorCode.sinkServer],
  ['InternalFailure', ErrorCode.sinkServer],
  ['InternalFailureException', ErrorCode.sinkServer],
  ['InternalServerError', ErrorCode.sinkServer],
  ['KMSInternalException', ErrorCode.sinkServer],
  ['RequestTimeout', ErrorCode.sinkTimeout],
  ['RequestTimeoutException', ErrorCode.sinkTimeout],
  ['RequestTimeTooSkewed', ErrorCode.sinkTimeout],
  ['TimeoutError', ErrorCode.sinkTimeout],
  ['IDPCommunicationError', ErrorCode.sinkNetwork],
]);
const tooLargeNames = new Set(['EntityTooLarge', 'MaxMessageLengthExceeded']);

export type AwsDecision = { kind: 'retry' | 'misconfigured' | 'rejected'; code: Code };

/** The decision for an AWS error name (also a per-record `ErrorCode`) and HTTP status. */
export function decideAws(name: string | undefined, status: number | undefined): AwsDecision | undefined {
  if (name !== undefined) {
    if (authNames.has(name)) return { kind: 'misconfigured', code: ErrorCode.sinkAuth };
    if (notFoundNames.has(name)) return { kind: 'misconfigured', code: ErrorCode.sinkNotFound };
    if (misconfiguredNames.has(name)) return { kind: 'misconfigured', code: ErrorCode.sinkMisconfigured };
    const retry = retryNames.get(name);
    if (retry) return { kind: 'retry', code: retry };
    if (tooLargeNames.has(name)) return { kind: 'rejected', code: ErrorCode.sinkTooLarge };
  }
  if (status === undefined) return undefined;
  if (status >= 300 && status < 400) return { kind: 'misconfigured', code: ErrorCode.sinkRedirect };
  if (status === 401 || status === 403) return { kind: 'misconfigured', code: ErrorCode.sinkAuth };
  if (status === 404) return { kind: 'misconfigured', code: ErrorCode.sinkNotFound };
  if (status === 408) return { kind: 'retry', code: ErrorCode.sinkTimeout };
  if (status === 429) return { kind: 'retry', code: ErrorCode.sinkRateLimited };
  if (status === 413) return { kind: 'rejected', code: ErrorCode.sinkTooLarge };
  if (status >= 400 && status < 500) return { kind: 'rejected', code: ErrorCode.sinkRejected };
  // 5xx and anything unexpected: ambiguous means retry (RELIABILITY.md I4).
  return { kind: 'retry', code: ErrorCode.sinkServer };
}

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
}

/** HTTP status of an SDK error, when the service answered. */
export function awsStatus(err: unknown): number | undefined {
  const e = err as SdkErrorShape | null;
  return e?.$metadata?.httpStatusCode ?? e?.$response?.statusCode;
}

/**
 * Any error from an AWS SDK call as a TributaryError with the right kind, or the error itself
 * when it already is one, is an abort, or is not an SDK/network error at all (a bug: rethrown as is).
 * `what` names the operation and resource (never a credential).
 */
export function awsError(err: unknown, what: string): unknown {
  if (err instanceof TributaryError) return err;
  if (typeof err !== 'object' || err === null) return err;
  const e = err as SdkErrorShape;
  if (e.name === 'AbortError') return err;
  const name = typeof e.name === 'string' ? e.name : undefined;
  const status = awsStatus(err);
  const decision = decideAws(name, status);
  const message = `${what}: ${name && name !== 'Error' ? `${name}: ` : ''}${errorMessage(err)}`.slice(0, 500);
  const options = { cause: err, ...(status === undefined ? {} : { status }), details: { awsError: name } };
  if (decision) return new TributaryError(decision.code, message, options);
  // No answer from the service: a socket, DNS or timeout failure in the HTTP handler. The SDK
  // stamps errors from a sent request with $metadata; node's own carry a transient `code`.
  if (e.$metadata !== undefined || classify(err) === 'retryable') return new TributaryError(ErrorCode.sinkNetwork, message, options);
  return err;
}
