// Starting a worker thread on one of Tributary's own modules, run from the compiled build
// (`dist/`, .js) or from source through tsx (.ts): a .ts entry needs tsx's loader registered in
// the thread before it is imported. The line-parse threads and the integration threads use it.
import { writeFileSync } from 'node:fs';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The module `name` (no extension) beside the module at `base` (its `import.meta.url`), with the same extension. */
export function siblingModule(name: string, base: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

/** A worker running `entry`; throws as `new Worker` does (the thread's own failures come as its `error` event). */
export function startModuleWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`, { ...options, eval: true });
}

/**
 * Names the calling thread as `top -H`, `ps -L` and /proc show it (Linux keeps 15 bytes), so an
 * operator can tell the integration and parse threads from Node's own (all called `node`).
 * Best effort: where /proc/thread-self is not writable (not Linux), nothing happens.
 */
export function nameThisThread(name: string): void {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // Not Linux, or /proc not mounted: the thread keeps its name.
  }
}
