/** Per-peer-cluster metrics, read when Prometheus scrapes: nothing is updated on the query path. */
import client, { type Registry } from 'prom-client';
import type { PeerState, PeerStatus } from '../sources/peers/peer-cluster.js';

const STATES: readonly PeerState[] = ['connecting', 'connected', 'disconnected', 'lost'];

export function registerPeerMetrics(registry: Registry, statuses: () => readonly PeerStatus[], records: (peer: string) => number): void {
  new client.Gauge({
    name: 'crdns_peer_connected',
    help: '1 while the watch of the peer cluster\'s API server is open.',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      for (const s of statuses()) this.set({ peer: s.name }, s.connected ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'crdns_peer_state',
    help: 'State of each peer cluster (1 for the current state): connecting, connected, disconnected, lost (targets withdrawn).',
    labelNames: ['peer', 'state'],
    registers: [registry],
    collect() {
      for (const s of statuses()) for (const state of STATES) this.set({ peer: s.name, state }, s.state === state ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'crdns_peer_last_sync_timestamp_seconds',
    help: 'When the peer cluster\'s data was last known current (list, open watch, event, bookmark), seconds since 1970.',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      for (const s of statuses()) if (s.lastConfirmed !== undefined) this.set({ peer: s.name }, s.lastConfirmed / 1000);
    },
  });
  new client.Gauge({
    name: 'crdns_peer_records',
    help: 'Records (targets) the peer cluster\'s valid endpoints contribute, before withdrawal and conflicts.',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      for (const s of statuses()) this.set({ peer: s.name }, records(s.name));
    },
  });
  new client.Gauge({
    name: 'crdns_peer_relists',
    help: 'Complete relists of the peer cluster after the first (410 Gone, reconnects without a usable resourceVersion).',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      for (const s of statuses()) this.set({ peer: s.name }, s.relists);
    },
  });
  new client.Gauge({
    name: 'crdns_peer_credential_reloads',
    help: 'Times the peer\'s kubeconfig file changed on disk and was taken into use.',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      for (const s of statuses()) this.set({ peer: s.name }, s.credentialReloads);
    },
  });
}
