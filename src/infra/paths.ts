// Where local infrastructure keeps jars, data and logs: a cache outside the repository.
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRIBUTARY_CACHE_DIR) return env.TRIBUTARY_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tributary');
}

/** The repository (or installed package) root, where deploy/local holds the poms. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const kafkaPom = join(packageRoot, 'deploy', 'local', 'kafka', 'pom.xml');
export const dynamodbPom = join(packageRoot, 'deploy', 'local', 'dynamodb', 'pom.xml');
