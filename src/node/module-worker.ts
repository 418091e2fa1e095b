// Starting a worker thread on one of Tributary's own modules, run from the compiled build
// (`dist/`, .js) or from source through tsx (.ts): a .ts entry needs tsx's loader registered in
// the thread before it is imported. The line-parse threads and the integration threads use it.
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
