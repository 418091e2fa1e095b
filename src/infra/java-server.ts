// Runs one Java server process for local infrastructure: spawn detached with its output in a
// log file, wait until a probe answers (failing fast if the process dies), stop by pid.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { ErrorCode, TributaryError, errorMessage } from '../errors.js';
import { progress } from '../observability/progress.js';

export interface JavaServerSpec {
  name: string;
  args: readonly string[];
  cwd: string;
  logFile: string;
  /** Resolves when the server answers; throws (or returns false) while it does not. */
  probe: () => Promise<boolean>;
  startTimeoutMs?: number;
  quiet?: boolean;
}

export async function startJavaServer(spec: JavaServerSpec): Promise<number> {
  const bar = progress(spec.name, { quiet: spec.quiet ?? false });
  bar.update('starting');
  const out = openSync(spec.logFile, 'a');
  // The instance directory on the command line lets a later stop check the pid is still ours.
  const child = spawn('java', [`-Dtributary.dir=${spec.cwd}`, ...spec.args], {
    cwd: spec.cwd,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new TributaryError(ErrorCode.infraStartFailed, `${spec.name}: java did not start`);
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  child.unref();
  const deadline = Date.now() + (spec.startTimeoutMs ?? 90_000);
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw new TributaryError(
        ErrorCode.infraStartFailed,
        `${spec.name} exited with code ${exited} while starting. Log tail (${spec.logFile}):\n${logTail(spec.logFile)}`,
      );
    }
    try {
      if (await spec.probe()) {
        bar.done(`ready (pid ${pid})`);
        return pid;
      }
    } catch (err) {
      lastError = errorMessage(err);
    }
    bar.update(`waiting for it to answer (pid ${pid})`);
    await sleep(250);
  }
  await stopPid(pid, 5_000);
  throw new TributaryError(
    ErrorCode.infraStartFailed,
    `${spec.name} did not answer within ${spec.startTimeoutMs ?? 90_000} ms (${lastError}). Log tail:\n${logTail(spec.logFile)}`,
  );
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's command line, to check a recorded pid is still ours before signalling it. */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return undefined;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopPid(pid: number, graceMs = 15_000): Promise<void> {
  if (!isAlive(pid)) return;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    signal(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    // Detached servers lead their own process group: signal the group so nothing is left behind.
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

function logTail(file: string, lines = 25): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
