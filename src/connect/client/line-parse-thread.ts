// The worker thread of line-parse-threads.ts: classifies the lines it is sent (JSON.parse and the
// envelope check, `classifyLine`) and answers with what the reading thread needs, nothing more.
// Each answer holds a few short strings per event, not its parsed tree: the tree is garbage here,
// in this thread's heap, and never crosses.
import { parentPort } from 'node:worker_threads';
import { classifyLine } from './line-parser.js';
import { encodeClasses, type ParseRequest, type ParseResponse } from './line-parse-wire.js';

if (!parentPort) throw new Error('line-parse-thread.ts runs only as a worker thread');
const port = parentPort;

port.on('message', (req: ParseRequest) => {
  const bytes = Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength);
  let at = 0;
  const classes = Array.from(req.lengths, (n) => classifyLine(bytes.subarray(at, (at += n))));
  const res: ParseResponse = { id: req.id, ...encodeClasses(classes) };
  port.postMessage(res);
});
