/**
 * Metrics of the sources and of feedback, read when Prometheus scrapes: how
 * often the watch had to restart, whether files are unusable, whether status
 * and Event writes fail. Nothing here runs on the query path.
 */
import client, { type Registry } from 'prom-client';
import type { StatusReporterStats } from '../feedback/status-reporter.js';
import type { WatchSummary } from '../kubernetes/watch-summary.js';
import type { DnsEndpointSourceState } from '../sources/dnsendpoints/source.js';
import type { ManifestProblem } from '../sources/manifests/documents.js';

function gauge(registry: Registry, name: string, help: string, value: () => number | undefined): void {
  new client.Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      const v = value();
      if (v !== undefined) this.set(v);
    },
  });
}

export function registerWatchMetrics(registry: Registry, state: () => DnsEndpointSourceState): void {
  gauge(registry, 'crdns_watch_connected', '1 while every watch of this cluster\'s API server is open.', () => (state().connected ? 1 : 0));
  gauge(registry, 'crdns_watch_restarts', 'Watches of this cluster\'s API server started after the first (closed by the server, failed, or idle).', () => state().restarts);
  gauge(registry, 'crdns_watch_relists', 'Complete relists of this cluster\'s API server after the first.', () => state().relists);
  gauge(registry, 'crdns_watch_failures', 'Failed lists and watches of this cluster\'s API server.', () => state().failures);
  gauge(registry, 'crdns_watch_idle_restarts', 'Watches restarted because they were silent past --watch-idle-timeout.', () => state().idleRestarts);
  gauge(registry, 'crdns_watch_stall_restarts', 'Watches restarted because a fresh watch saw changes they had not delivered (a silently stalled stream).', () => state().stallRestarts);
  gauge(registry, 'crdns_watch_last_sync_timestamp_seconds', 'When this cluster\'s data was last known current, seconds since 1970.', () => {
    const t = state().lastSyncTime;
    return t === undefined ? undefined : t / 1000;
  });
}

/** One watched resource (its watches in every namespace summed up), as `resource` labels it: "dnsendpoints", "services", ... */
export type ResourceWatch = { resource: string } & WatchSummary;

function labelled(registry: Registry, name: string, help: string, watches: () => readonly ResourceWatch[], value: (w: ResourceWatch) => number | undefined): void {
  new client.Gauge({
    name,
    help,
    labelNames: ['resource'],
    registers: [registry],
    collect() {
      // A resource no longer watched (peers restart theirs) must not keep its last value.
      this.reset();
      for (const w of watches()) {
        const v = value(w);
        if (v !== undefined) this.set({ resource: w.resource }, v);
      }
    },
  });
}

/**
 * Every watch of this cluster's API server by resource (DNSEndpoints,
 * Services, EndpointSlices, Ingresses, ...): the crdns_watch_* gauges above
 * stay the DNSEndpoint watch's, as they always were.
 */
export function registerResourceWatchMetrics(registry: Registry, watches: () => readonly ResourceWatch[]): void {
  labelled(registry, 'crdns_source_watch_connected', '1 while every watch of this resource (one per namespace) is open.', watches, (w) => (w.connected ? 1 : 0));
  labelled(registry, 'crdns_source_watch_restarts', 'Watches of this resource started after the first (closed by the server, failed, or idle).', watches, (w) => w.restarts);
  labelled(registry, 'crdns_source_watch_relists', 'Complete relists of this resource after the first.', watches, (w) => w.relists);
  labelled(registry, 'crdns_source_watch_failures', 'Failed lists and watches of this resource.', watches, (w) => w.failures);
  labelled(registry, 'crdns_source_watch_idle_restarts', 'Watches of this resource restarted because they were silent past --watch-idle-timeout.', watches, (w) => w.idleRestarts);
  labelled(registry, 'crdns_source_watch_stall_restarts', 'Watches of this resource restarted because a fresh watch saw changes they had not delivered.', watches, (w) => w.stallRestarts);
  labelled(registry, 'crdns_source_watch_last_sync_timestamp_seconds', 'When this resource\'s data was last known current, seconds since 1970 (absent before its first list).', watches, (w) =>
    w.lastSyncTime === undefined ? undefined : w.lastSyncTime / 1000,
  );
}

export function registerFeedbackMetrics(registry: Registry, stats: () => StatusReporterStats): void {
  gauge(registry, 'crdns_status_writes', 'Status patches written to DNSEndpoints.', () => stats().statusWrites);
  gauge(registry, 'crdns_status_write_failures', 'Status patches that failed (each is retried).', () => stats().statusWriteFailures);
  gauge(registry, 'crdns_events_created', 'Warning Events created.', () => stats().eventsCreated);
  gauge(registry, 'crdns_events_dropped', 'Events given up on after repeated failures.', () => stats().eventsDropped);
  gauge(registry, 'crdns_feedback_pending', 'Status and Event writes waiting, running or scheduled for retry.', () => stats().pending);
}

export function registerManifestMetrics(registry: Registry, problems: () => readonly ManifestProblem[]): void {
  gauge(registry, 'crdns_manifest_files_unusable', 'Manifest files that cannot be read or parsed right now (their last good content keeps serving).', () =>
    problems().filter((p) => p.kind === 'read' || p.kind === 'parse').length,
  );
  gauge(registry, 'crdns_manifest_problems', 'Current problems of the manifest folder: unusable files, malformed documents, duplicate keys.', () => problems().length);
}
