// What the emulator served, per app: every event line a stream completed (id, offset, type,
// connection), bounded in memory and optionally appended to an NDJSON file for long runs.
import { createWriteStream, type WriteStream } from 'node:fs';

export interface ServedEvent {
  id: string;
  offset: string;
  type: string;
  /** The stream (connection) that served it; numbered from 1 per emulator. */
  connection: number;
}

export interface ServedSummary {
  /** Events served since start, including entries no longer held in memory. */
  total: number;
  /** Entries dropped from memory because of `servedLimit`. */
  dropped: number;
}

export class ServedRecord {
  private readonly byApp = new Map<string, { entries: ServedEvent[]; start: number; total: number }>();
  private readonly file: WriteStream | undefined;

  constructor(private readonly limit: number, filePath?: string) {
    this.file = filePath ? createWriteStream(filePath, { flags: 'a' }) : undefined;
    // A file error must not take the emulator down; it is reported once on stderr.
    this.file?.once('error', (err) => process.stderr.write(`connect emulator: served file ${filePath}: ${err.message}\n`));
  }

  add(appKey: string, served: ServedEvent): void {
    let app = this.byApp.get(appKey);
    if (!app) {
      app = { entries: [], start: 0, total: 0 };
      this.byApp.set(appKey, app);
    }
    app.total += 1;
    if (this.limit > 0) {
      app.entries.push(served);
      // Dropping in chunks keeps the cost amortised O(1) instead of a shift per event.
      if (app.entries.length - app.start > this.limit) app.start += 1;
      if (app.start > 4_096 && app.start * 2 > app.entries.length) {
        app.entries = app.entries.slice(app.start);
        app.start = 0;
      }
    }
    if (this.file && !this.file.destroyed) this.file.write(`${JSON.stringify({ app: appKey, ...served })}\n`);
  }

  /** The served events still held in memory, oldest first. */
  list(appKey: string): ServedEvent[] {
    const app = this.byApp.get(appKey);
    return app ? app.entries.slice(app.start) : [];
  }

  summary(appKey: string): ServedSummary {
    const app = this.byApp.get(appKey);
    if (!app) return { total: 0, dropped: 0 };
    return { total: app.total, dropped: app.total - (app.entries.length - app.start) };
  }

  clear(appKey?: string): void {
    if (appKey === undefined) this.byApp.clear();
    else this.byApp.delete(appKey);
  }

  async close(): Promise<void> {
    const file = this.file;
    if (!file || file.destroyed) return;
    await new Promise<void>((resolve) => file.end(resolve));
  }
}
