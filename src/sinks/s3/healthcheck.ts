// The s3 probe: HeadBucket proves the credentials, the region and the bucket (it needs
// s3:ListBucket). One attempt, nothing written: a probe object would show up in the customer's data.
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { abortError } from '../http/backoff.js';
import { awsError } from '../aws/errors.js';

export async function healthcheckS3(client: S3Client, bucket: string, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw abortError(signal);
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
  } catch (err) {
    if (signal.aborted) throw abortError(signal);
    throw awsError(err, `S3 HeadBucket ${bucket}`);
  }
}
