// Argument parsers for commander options: each rejects a bad value with a message naming it.
import { InvalidArgumentError } from 'commander';

export function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new InvalidArgumentError(`"${value}" is not a port (0-65535)`);
  return Number(value);
}

/** A name for a set of embedded servers (a directory under the cache's `instances/`). */
export function parseInstanceName(value: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(value)) throw new InvalidArgumentError(`"${value}" is not an instance name (1-64 of a-z, 0-9, "-")`);
  return value;
}

export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`"${value}" is not a positive integer`);
  return Number(value);
}

/** Durations like 500ms, 60s, 5m, 1h (a bare number is seconds). */
export function parseDurationMs(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`"${value}" is not a duration (e.g. 500ms, 60s, 5m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit]!);
}

/** An integer from `min` to `max`, both included. */
export function parseIntIn(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`"${value}" is not a whole number from ${min} to ${max}`);
    }
    return Number(value);
  };
}

/** A number (decimals allowed) from `min` to `max`, both included. */
export function parseNumberIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = value.trim() === '' ? Number.NaN : Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`"${value}" is not a number from ${min} to ${max}`);
    return n;
  };
}

/** A JSON object, such as `{"sink.parkWhenIdle":true}`. */
export function parseJsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError(`${value} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

/** A comma-separated list whose every item is one of `allowed`. */
export function parseListOf(allowed: readonly string[]): (value: string) => string[] {
  return (value) => {
    const items = value.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = items.filter((i) => !allowed.includes(i));
    if (items.length === 0 || bad.length > 0) throw new InvalidArgumentError(`${bad.length ? `unknown: ${bad.join(', ')}` : 'empty list'} (choose from ${allowed.join(', ')})`);
    return items;
  };
}
