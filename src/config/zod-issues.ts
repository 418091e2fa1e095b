// Turns zod issues into `path: message` pairs that name the bad key, for every schema we own.
import type { z } from 'zod';

export function zodIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.flatMap((issue) => {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ path: base ? `${base}.${k}` : k, message: 'unknown key' }));
    }
    return [{ path: base, message: issue.message }];
  });
}
