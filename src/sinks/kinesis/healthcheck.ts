// The kinesis probe: DescribeStreamSummary proves the credentials, the region and the stream,
// and that the stream takes writes (ACTIVE or UPDATING). One attempt, no data sent.
import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { ErrorCode, TributaryError } from '../../errors.js';
import { abortError } from '../http/backoff.js';
import { awsError } from '../aws/errors.js';

export async function healthcheckKinesis(client: KinesisClient, stream: string, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw abortError(signal);
  let status: string | undefined;
  try {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }), { abortSignal: signal });
    status = out.StreamDescriptionSummary?.StreamStatus;
  } catch (err) {
    if (signal.aborted) throw abortError(signal);
    throw awsError(err, `Kinesis DescribeStreamSummary ${stream}`);
  }
  if (status === 'ACTIVE' || status === 'UPDATING') return;
  if (status === 'CREATING') throw new TributaryError(ErrorCode.sinkServer, `stream ${stream} is still being created`);
  throw new TributaryError(ErrorCode.sinkMisconfigured, `stream ${stream} is ${status ?? 'in an unknown state'}; it takes no writes`);
}
