/**
 * Several watches of one resource (one per namespace) seen as one, for
 * metrics and /readyz: counters add up, "connected" needs every stream open,
 * and the data is only as fresh as its least recently confirmed scope.
 */
import type { WatchState } from './watch-supervisor.js';

export interface WatchSummary {
  /** Every scope has an open watch stream right now. */
  connected: boolean;
  /**
   * ms since epoch when the least recently confirmed scope was last known
   * current (successful list, open stream, event or bookmark). Undefined
   * before every scope listed once.
   */
  lastSyncTime?: number;
  restarts: number;
  relists: number;
  failures: number;
  idleRestarts: number;
  stallRestarts: number;
  lastError?: string;
}

export function summarizeWatches(states: ReadonlyArray<Readonly<WatchState>>): WatchSummary {
  const freshness = states.map((s) => Math.max(s.lastListTime ?? 0, s.lastActivityTime ?? 0));
  const oldest = freshness.length > 0 ? Math.min(...freshness) : 0;
  const lastError = states.find((s) => s.lastError !== undefined)?.lastError;
  const sum = (field: 'restarts' | 'relists' | 'failures' | 'idleRestarts' | 'stallRestarts') => states.reduce((total, s) => total + s[field], 0);
  const summary: WatchSummary = {
    connected: states.length > 0 && states.every((s) => s.connected),
    restarts: sum('restarts'),
    relists: sum('relists'),
    failures: sum('failures'),
    idleRestarts: sum('idleRestarts'),
    stallRestarts: sum('stallRestarts'),
  };
  if (oldest > 0) summary.lastSyncTime = oldest;
  if (lastError !== undefined) summary.lastError = lastError;
  return summary;
}
