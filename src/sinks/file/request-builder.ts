// Pure: what the file sink writes and where. A batch becomes NDJSON bytes; a new file is named
// so that a plain sort orders files by creation time, then by the first Kafka offset inside.
import { encodeEvents } from '../encoding.js';
import type { EventRecord } from '../types.js';

export function encodeBatch(records: readonly EventRecord[]): Buffer {
  return encodeEvents(records, 'ndjson');
}

/** `20240501T120000123Z-p00003-o00000000000000001234.ndjson`: fixed width, so it sorts as it reads. */
export function fileName(first: Pick<EventRecord, 'partition' | 'offset'>, now: number, attempt = 0): string {
  const time = new Date(now).toISOString().replace(/[-:.]/g, '');
  const suffix = attempt > 0 ? `-${attempt}` : '';
  return `${time}-p${String(first.partition).padStart(5, '0')}-o${first.offset.padStart(20, '0')}${suffix}.ndjson`;
}

export interface OpenFile {
  size: number;
  openedAt: number;
}

/** A new file is due when the batch would push a non-empty file past the size, or the file is old. */
export function rotationDue(file: OpenFile | undefined, batchBytes: number, now: number, limits: { maxFileBytes: number; rotateMs: number }): boolean {
  if (!file) return true;
  if (now - file.openedAt >= limits.rotateMs) return true;
  return file.size > 0 && file.size + batchBytes > limits.maxFileBytes;
}

/** Integration ids become directory names: only a safe, single path segment is accepted. */
export function isSafeSegment(id: string): boolean {
  return /^[A-Za-z0-9._-]{1,200}$/.test(id) && id !== '.' && id !== '..';
}
