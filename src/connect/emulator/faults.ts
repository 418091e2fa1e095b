// The fault knobs in force, per app key and for every app (`*`), set at start or at run time.
// Counted faults (the next K requests, the next N streams) are consumed here, in one place.
import type { Fault } from './options.js';

export const allApps = '*';

const streamKnobs = [
  'closeAfterEvents', 'closeAfterMs', 'truncateAfterEvents', 'truncateMode', 'corruptAfterEvents',
  'malformedLineAfterEvents', 'malformedLine', 'longLineAfterEvents', 'longLineBytes', 'trickle',
] as const satisfies readonly (keyof Fault)[];

export type StreamFaults = Pick<Fault, (typeof streamKnobs)[number]>;
export type StatusFault = NonNullable<Fault['status']>;

export class FaultBoard {
  private readonly faults = new Map<string, Fault>();

  /** Replaces the faults of one app (or of every app with `*`). An empty object clears them. */
  set(appKey: string, fault: Fault): void {
    if (Object.keys(fault).length === 0) this.faults.delete(appKey);
    else this.faults.set(appKey, structuredClone(fault));
  }

  /** Clears one app's faults, or every fault (including `*`) when no key is given. */
  clear(appKey?: string): void {
    if (appKey === undefined) this.faults.clear();
    else this.faults.delete(appKey);
  }

  /** The faults in force for an app: its own knobs over the `*` ones. */
  effective(appKey: string): Fault {
    return { ...(this.faults.get(allApps) ?? {}), ...(this.faults.get(appKey) ?? {}) };
  }

  snapshot(): Record<string, Fault> {
    return Object.fromEntries([...this.faults].map(([k, v]) => [k, structuredClone(v)]));
  }

  /** The status the next request of this app must get instead of a stream, consuming one of its count. */
  takeStatus(appKey: string): StatusFault | undefined {
    for (const key of [appKey, allApps]) {
      const fault = this.faults.get(key);
      const status = fault?.status;
      if (!fault || !status) continue;
      const taken = { ...status };
      if (status.count <= 1) delete fault.status;
      else status.count -= 1;
      this.dropIfEmpty(key);
      return taken;
    }
    return undefined;
  }

  /** The stream knobs for a new stream, consuming one of `connections` where it is set. */
  takeStreamFaults(appKey: string): StreamFaults {
    const merged: StreamFaults = {};
    for (const key of [allApps, appKey]) {
      const fault = this.faults.get(key);
      if (!fault || !streamKnobs.some((k) => fault[k] !== undefined)) continue;
      for (const k of streamKnobs) if (fault[k] !== undefined) Object.assign(merged, { [k]: structuredClone(fault[k]) });
      if (fault.connections !== undefined) {
        if (fault.connections <= 1) {
          for (const k of streamKnobs) delete fault[k];
          delete fault.connections;
        } else {
          fault.connections -= 1;
        }
        this.dropIfEmpty(key);
      }
    }
    return merged;
  }

  private dropIfEmpty(key: string): void {
    const fault = this.faults.get(key);
    if (fault && Object.values(fault).every((v) => v === undefined)) this.faults.delete(key);
  }
}
