// File-system errors mapped onto the one error module: what a person must fix versus what may
// pass on its own. Anything else stays unclassified (a bug).
import { ErrorCode, TributaryError, errorMessage } from '../../errors.js';

// Permissions, read-only disk, a file where the directory should be.
const misconfigCodes = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'ELOOP', 'EEXIST']);
// Disk full, quota, I/O hiccup, descriptor pressure.
const transientCodes = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR']);

export function storageError(err: unknown, what: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  if (misconfigCodes.has(code)) return new TributaryError(ErrorCode.sinkMisconfigured, `${what}: ${errorMessage(err)}`, { cause: err, details: { code } });
  if (transientCodes.has(code)) return new TributaryError(ErrorCode.sinkStorage, `${what}: ${errorMessage(err)}`, { cause: err, details: { code } });
  return err;
}
