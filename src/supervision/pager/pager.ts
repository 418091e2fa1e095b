// The one thing the guardian needs from a pager: deliver a page action, or fail loudly.
import type { PageAction } from '../guardian-types.js';

export interface Pager {
  readonly type: string;
  /** Resolves once the receiver accepted the action; rejects with a PagerError otherwise. */
  send(action: PageAction, signal?: AbortSignal): Promise<void>;
}
