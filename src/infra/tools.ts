// Checks for the external tools local infrastructure needs, with an install hint per tool.
import { spawnSync } from 'node:child_process';
import { ErrorCode, TributaryError } from '../errors.js';

const hints = {
  java: 'install a Java 17+ runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; macOS: brew install openjdk@17)',
  mvn: 'install Apache Maven 3.6+ (Debian/Ubuntu: apt-get install maven; macOS: brew install maven)',
} as const;

export type Tool = keyof typeof hints;

/** Throws a clear error naming what to install when `tool` is not on PATH or too old. */
export function requireTool(tool: Tool): void {
  const res = spawnSync(tool, tool === 'java' ? ['-version'] : ['-v'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    throw new TributaryError(
      ErrorCode.infraMissingTool,
      `${tool} is required for the embedded Kafka and DynamoDB but was not found (${res.error?.message ?? `exit ${res.status}`}): ${hints[tool]}. ` +
        'Or point Tributary at running servers with KAFKA_BROKERS and DYNAMODB_ENDPOINT.',
    );
  }
  if (tool === 'java') {
    const major = Number(/version "(\d+)/.exec(`${res.stderr}${res.stdout}`)?.[1] ?? '0');
    if (major > 0 && major < 17) {
      throw new TributaryError(ErrorCode.infraMissingTool, `Java ${major} found, but 17+ is required: ${hints.java}`);
    }
  }
}
