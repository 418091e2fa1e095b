// Fetches a pom's runtime dependencies from Maven Central into a cache outside git, once.
// The cache key is a hash of the pom, so a changed pom fetches again.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ErrorCode, TributaryError } from '../errors.js';
import { progress } from '../observability/progress.js';
import { requireTool } from './tools.js';

export interface FetchedJars {
  /** Directory holding every jar (and native library) of the pom's runtime closure. */
  libDir: string;
  /** True when this call downloaded them; false when they came from the cache. */
  downloaded: boolean;
}

export async function fetchJars(pomPath: string, cacheDir: string, label: string, quiet = false): Promise<FetchedJars> {
  const pom = readFileSync(pomPath);
  const key = createHash('sha256').update(pom).digest('hex').slice(0, 12);
  const home = join(cacheDir, 'jars', `${label}-${key}`);
  const libDir = join(home, 'lib');
  const marker = join(home, '.complete');
  if (existsSync(marker)) return { libDir, downloaded: false };

  requireTool('mvn');
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  const bar = progress(`${label} jars`, { quiet });
  bar.update('resolving with Maven');
  let files = 0;
  let bytes = 0;
  const tail: string[] = [];
  const child = spawn(
    'mvn',
    ['-B', '-f', pomPath, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${libDir}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > 30) tail.shift();
    const m = /Downloaded from [^:]+: \S+ \(([\d.]+) (B|kB|MB)/.exec(line);
    if (m) {
      files += 1;
      bytes += Number(m[1]) * (m[2] === 'MB' ? 1e6 : m[2] === 'kB' ? 1e3 : 1);
      bar.update(`downloading from Maven Central: ${files} files, ${(bytes / 1e6).toFixed(1)} MB`);
    }
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new TributaryError(
      ErrorCode.infraStartFailed,
      `Maven could not fetch the ${label} jars (exit ${code}). Last output:\n${tail.join('\n')}`,
    );
  }
  const jars = readdirSync(libDir).filter((f) => f.endsWith('.jar'));
  if (jars.length === 0) throw new TributaryError(ErrorCode.infraStartFailed, `Maven fetched no jars for ${label} into ${libDir}`);
  writeFileSync(marker, `${new Date().toISOString()} ${jars.length} jars\n`);
  bar.done(`${jars.length} jars ready in ${libDir}${files ? ` (${files} files downloaded)` : ' (from the local Maven repository)'}`);
  return { libDir, downloaded: true };
}
