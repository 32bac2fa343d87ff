/**
 * A serving worker's thread (`crdns serve --workers N`): gRPC listeners and a
 * snapshot replica, nothing else. It never reads a source; the main thread
 * sends every build step the zone store made, and replaying them on this
 * thread's own SnapshotBuilder gives the same snapshots (same serial, same
 * generation). Until the first step arrives, Query fails with UNAVAILABLE, as
 * crdns does before its first listing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HeapTrim } from '../../heap-trim.js';
import { createLogger } from '../../logger.js';
import { GrpcServer, ListenError } from '../grpc-server.js';
import { HealthState } from '../health-service.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { QueryTallier } from './query-tally.js';
import { SnapshotReplica } from './snapshot-replica.js';
import { decodeBuildStep } from './step-codec.js';

const port = parentPort;
if (!port) throw new Error('serving-worker.js runs only as a worker thread');
const init = workerData as WorkerInit;
const logger = createLogger(init.logLevel, { worker: init.index });
const send = (m: FromWorker): void => port.postMessage(m);

const replica = new SnapshotReplica(init.zones);
const health = new HealthState();
let mainServing = false;
const tally = new QueryTallier();
const heapTrim = new HeapTrim();
const server = new GrpcServer({ listen: init.listen, snapshot: () => replica.snapshot, health, observer: tally });

const flushTimer = setInterval(() => {
  const t = tally.take();
  if (t) port.postMessage({ kind: 'tally', tally: t } satisfies FromWorker, [t.durations.buffer as ArrayBuffer]);
}, init.tallyIntervalMs);

port.on('message', (m: ToWorker) => {
  switch (m.kind) {
    case 'build': {
      const step = decodeBuildStep(m.step);
      try {
        replica.apply(step);
        if (step.kind === 'full') heapTrim.afterFullBuild();
        health.set(mainServing);
        send({ kind: 'applied', generation: step.generation });
      } catch (err) {
        // Keep serving the last good replica; the pool answers with a full step.
        logger.error('build step failed', { generation: step.generation, error: err });
        send({ kind: 'build-failed', generation: step.generation, error: (err as Error).message });
      }
      return;
    }
    case 'health':
      mainServing = m.serving;
      health.set(m.serving && replica.snapshot !== undefined);
      return;
    case 'stop':
      health.set(false);
      clearInterval(flushTimer);
      heapTrim.stop();
      void server.stop(m.graceMs).then(() => {
        const t = tally.take();
        if (t) send({ kind: 'tally', tally: t });
        send({ kind: 'stopped' });
        port.close();
      });
      return;
  }
});

server.start().then(
  (addresses) => send({ kind: 'listening', addresses }),
  async (err: unknown) => {
    await server.stop(0);
    if (err instanceof ListenError) send({ kind: 'listen-failed', address: err.address, reason: err.reason });
    else send({ kind: 'listen-failed', address: init.listen.join(' '), reason: (err as Error).message });
    clearInterval(flushTimer);
    port.close();
  },
);
