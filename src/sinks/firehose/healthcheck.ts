// The firehose probe: DescribeDeliveryStream proves the credentials, the region and the stream,
// and that the stream takes data (ACTIVE). One attempt, no data sent.
import { DescribeDeliveryStreamCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import { ErrorCode, TributaryError } from '../../errors.js';
import { abortError } from '../http/backoff.js';
import { awsError } from '../aws/errors.js';

export async function healthcheckFirehose(client: FirehoseClient, stream: string, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw abortError(signal);
  let status: string | undefined;
  try {
    const out = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: stream }), { abortSignal: signal });
    status = out.DeliveryStreamDescription?.DeliveryStreamStatus;
  } catch (err) {
    if (signal.aborted) throw abortError(signal);
    throw awsError(err, `Firehose DescribeDeliveryStream ${stream}`);
  }
  if (status === 'ACTIVE') return;
  if (status === 'CREATING') throw new TributaryError(ErrorCode.sinkServer, `delivery stream ${stream} is still being created`);
  throw new TributaryError(ErrorCode.sinkMisconfigured, `delivery stream ${stream} is ${status ?? 'in an unknown state'}; it takes no data`);
}
