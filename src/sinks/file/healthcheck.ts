// The file sink's probe: the integration's directory can be created, written, fsynced and
// cleaned up. The probe file is hidden (dot-prefixed) and removed, so it never looks like data.
import { randomBytes } from 'node:crypto';
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { abortError } from '../http/backoff.js';
import { storageError } from './storage-errors.js';

export async function checkWritableDir(dir: string, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw abortError(signal);
  const probe = join(dir, `.healthcheck-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true });
    const h = await open(probe, 'wx');
    try {
      await h.write('probe\n');
      await h.sync();
    } finally {
      await h.close();
    }
    await unlink(probe);
  } catch (err) {
    await unlink(probe).catch(() => undefined);
    throw storageError(err, `directory ${dir} is not writable`);
  }
}
