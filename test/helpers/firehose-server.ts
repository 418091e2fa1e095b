// A loopback stand-in for Amazon Data Firehose: the documented JSON 1.1 contract of
// PutRecordBatch (and DescribeDeliveryStream, for the healthcheck), with programmable
// partial failures and whole-request errors. It records every record it accepts.
//
//   POST /   X-Amz-Target: Firehose_20150804.PutRecordBatch
//            Content-Type: application/x-amz-json-1.1
//   {"DeliveryStreamName": "s", "Records": [{"Data": "<base64>"}]}
//   200 {"FailedPutCount": n, "Encrypted": false, "RequestResponses": [{"RecordId": "…"} | {"ErrorCode": "…", "ErrorMessage": "…"}]}
//   400 {"__type": "ResourceNotFoundException", "message": "…"}   503 ServiceUnavailableException
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** PutRecordBatch quotas, enforced as the service does (400 InvalidArgumentException). */
export const firehoseQuotas = { maxRecords: 500, maxRequestBytes: 4 * 1024 * 1024, maxRecordBytes: 1000 * 1024 };

export interface AcceptedRecord {
  stream: string;
  recordId: string;
  data: Buffer;
}

export interface FirehoseRequestLog {
  target: string;
  stream: string | undefined;
  records: number;
  /** Sum of the records' decoded data. */
  bytes: number;
  status: number;
  failedPutCount?: number;
}

interface RecordFault {
  match: (data: Buffer) => boolean;
  calls: number;
  errorCode: string;
  errorMessage: string;
}

interface RequestFault {
  status: number;
  type: string;
  message: string;
  count: number;
}

export interface FirehoseServer {
  readonly url: string;
  /** Every record accepted, in acceptance order. */
  readonly accepted: AcceptedRecord[];
  readonly requests: FirehoseRequestLog[];
  /** Streams that exist; others answer ResourceNotFoundException. */
  readonly streams: Set<string>;
  /** For the next `calls` PutRecordBatch calls, records whose data matches fail with `errorCode`. */
  failRecords(match: (data: Buffer) => boolean, calls: number, errorCode?: string, errorMessage?: string): void;
  /** The next `count` calls (any operation) fail as a whole with this status and `__type`. */
  failNext(status: number, type: string, count?: number, message?: string): void;
  close(): Promise<void>;
}

export async function startFirehoseServer(options: { streams?: readonly string[] } = {}): Promise<FirehoseServer> {
  const accepted: AcceptedRecord[] = [];
  const requests: FirehoseRequestLog[] = [];
  const streams = new Set(options.streams ?? ['events']);
  const recordFaults: RecordFault[] = [];
  const requestFaults: RequestFault[] = [];

  const reply = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomBytes(16).toString('hex'),
    });
    res.end(text);
  };
  const error = (res: ServerResponse, status: number, type: string, message: string): void => reply(res, status, { __type: type, message });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const log: FirehoseRequestLog = { target, stream: undefined, records: 0, bytes: 0, status: 200 };
    requests.push(log);
    const fail = (status: number, type: string, message: string): void => {
      log.status = status;
      error(res, status, type, message);
    };
    if (req.method !== 'POST' || req.url !== '/') return fail(404, 'UnknownOperationException', 'POST / only');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) return fail(400, 'SerializationException', 'Content-Type must be application/x-amz-json-1.1');
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) return fail(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    let body: { DeliveryStreamName?: unknown; Records?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      return fail(400, 'SerializationException', 'body is not JSON');
    }
    const stream = typeof body.DeliveryStreamName === 'string' ? body.DeliveryStreamName : undefined;
    log.stream = stream;
    const fault = requestFaults[0];
    if (fault) {
      if (--fault.count <= 0) requestFaults.shift();
      return fail(fault.status, fault.type, fault.message);
    }
    if (stream === undefined) return fail(400, 'InvalidArgumentException', 'DeliveryStreamName is required');
    if (!streams.has(stream)) return fail(400, 'ResourceNotFoundException', `Firehose ${stream} under account 123456789012 not found.`);

    if (target === 'Firehose_20150804.DescribeDeliveryStream') {
      return reply(res, 200, {
        DeliveryStreamDescription: {
          DeliveryStreamName: stream,
          DeliveryStreamARN: `arn:aws:firehose:us-east-1:123456789012:deliverystream/${stream}`,
          DeliveryStreamStatus: 'ACTIVE',
          DeliveryStreamType: 'DirectPut',
          VersionId: '1',
          Destinations: [],
          HasMoreDestinations: false,
        },
      });
    }
    if (target !== 'Firehose_20150804.PutRecordBatch') return fail(400, 'UnknownOperationException', `unknown operation ${target}`);

    if (!Array.isArray(body.Records) || body.Records.length === 0) return fail(400, 'InvalidArgumentException', 'Records must hold 1 to 500 records');
    const records = body.Records.map((r) => Buffer.from(String((r as { Data?: unknown }).Data ?? ''), 'base64'));
    log.records = records.length;
    log.bytes = records.reduce((n, d) => n + d.length, 0);
    if (records.length > firehoseQuotas.maxRecords) return fail(400, 'InvalidArgumentException', `${records.length} records; at most ${firehoseQuotas.maxRecords}`);
    if (log.bytes > firehoseQuotas.maxRequestBytes) return fail(400, 'InvalidArgumentException', `${log.bytes} bytes; at most ${firehoseQuotas.maxRequestBytes}`);
    const big = records.findIndex((d) => d.length > firehoseQuotas.maxRecordBytes);
    if (big >= 0) return fail(400, 'InvalidArgumentException', `record ${big} is ${records[big]!.length} bytes; at most ${firehoseQuotas.maxRecordBytes}`);

    const active = recordFaults.filter((f) => f.calls > 0);
    for (const f of active) f.calls -= 1;
    let failed = 0;
    const responses = records.map((data) => {
      const f = active.find((x) => x.match(data));
      if (f) {
        failed += 1;
        return { ErrorCode: f.errorCode, ErrorMessage: f.errorMessage };
      }
      const recordId = randomBytes(24).toString('base64');
      accepted.push({ stream, recordId, data });
      return { RecordId: recordId };
    });
    log.failedPutCount = failed;
    reply(res, 200, { FailedPutCount: failed, Encrypted: false, RequestResponses: responses });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) error(res, 500, 'InternalFailure', String(err));
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    accepted,
    requests,
    streams,
    failRecords: (match, calls, errorCode = 'ServiceUnavailableException', errorMessage = 'Slow down.') => {
      recordFaults.push({ match, calls, errorCode, errorMessage });
    },
    failNext: (status, type, count = 1, message = type) => {
      requestFaults.push({ status, type, message, count });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
