// The worker thread of line-parse-threads.ts: classifies the lines it is sent (JSON.parse and the
// envelope check, `classifyLine`) and answers with what the reading thread needs, nothing more.
// Each answer holds a few short strings per event, not its parsed tree: the tree is garbage here,
// in this thread's heap, and never crosses.
//
// A busy gzip stream can also be decoded here whole (`StreamRequest`): the thread keeps its gunzip
// and line splitter, inflates the compressed bytes it is sent, frames and classifies the lines,
// and answers with the lines' bytes in one transferred buffer.
import { parentPort } from 'node:worker_threads';
import { Gunzipper, maxInputSlice } from './inflate.js';
import { classifyLine } from './line-parser.js';
import { encodeClasses, encodeItems, type ParseRequest, type ParseResponse, type StreamRequest, type StreamResponse } from './line-parse-wire.js';
import { LineSplitter, type SplitItem } from './line-splitter.js';
import { nameThisThread } from '../../node/module-worker.js';

if (!parentPort) throw new Error('line-parse-thread.ts runs only as a worker thread');
const port = parentPort;
nameThisThread('tributary-parse');

interface Decoder {
  gunzip: Gunzipper;
  splitter: LineSplitter;
}

const streams = new Map<number, Decoder>();

port.on('message', (req: ParseRequest | StreamRequest) => {
  if ('kind' in req) {
    onStream(req);
    return;
  }
  const bytes = Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength);
  let at = 0;
  const classes = Array.from(req.lengths, (n) => classifyLine(bytes.subarray(at, (at += n))));
  const res: ParseResponse = { id: req.id, ...encodeClasses(classes) };
  port.postMessage(res);
});

function onStream(req: StreamRequest): void {
  let d = streams.get(req.stream);
  if (req.op === 'close') {
    d?.gunzip.close();
    streams.delete(req.stream);
    return;
  }
  if (!d) {
    // The stream's first request carries its framing; without it the stream is unknown here (a bug).
    const f = req.framing;
    if (!f) return answer(req.id, [], 0, false, new Error(`line-parse thread: stream ${req.stream} is not open here`));
    d = { gunzip: new Gunzipper(f.chunkBytes), splitter: new LineSplitter({ maxLineBytes: f.maxLineBytes, headBytes: f.headBytes }) };
    streams.set(req.stream, d);
  }
  const items: SplitItem[] = [];
  let decompressed = 0;
  const take = (outs: Buffer[]) => {
    for (const out of outs) {
      decompressed += out.length;
      for (const item of d.splitter.push(out)) items.push(item);
    }
  };
  if (req.op === 'data' && req.bytes) {
    const input = Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength);
    // After a failure nothing more is decoded (the gunzip reports it again).
    for (let at = 0; at < input.length && d.gunzip.failure === undefined; at += maxInputSlice) take(d.gunzip.write(input.subarray(at, at + maxInputSlice)));
  } else if (req.op === 'end') {
    take(d.gunzip.end());
  }
  const partial = d.splitter.bufferedBytes > 0;
  if (req.op === 'end') {
    d.gunzip.close();
    streams.delete(req.stream);
  }
  answer(req.id, items, decompressed, partial, d.gunzip.failure);
}

/** Answers stream request `id`: the framed items with their lines' classes, and the failure after them if any. */
function answer(id: number, items: SplitItem[], decompressed: number, partial: boolean, failure: unknown): void {
  const lines: Buffer[] = [];
  for (const item of items) if (item.kind === 'line') lines.push(item.bytes);
  const encoded = encodeItems(items);
  const res: StreamResponse = {
    kind: 'stream',
    id,
    ...encoded,
    ...encodeClasses(lines.map(classifyLine)),
    decompressed,
    partial,
    failure: failure === undefined ? undefined : { message: failure instanceof Error ? failure.message : String(failure), code: (failure as { code?: string }).code },
  };
  port.postMessage(res, [encoded.bytes.buffer as ArrayBuffer]);
}
