/**
 * A scriptable stand-in for the API server's list and watch calls, for unit
 * tests of the watch supervisor and the Kubernetes source. Each watch call is
 * recorded as a FakeWatch the test drives by hand: open it, push events,
 * close it cleanly or with an error, or leave it hanging.
 */
import assert from 'node:assert/strict';
import type { DnsEndpointStatus } from '../../src/sources/dnsendpoints/resource.js';
import type { ListResult, ListWatchClient, WatchStream, WatchStreamHandlers } from '../../src/kubernetes/watch-supervisor.js';
import type { Reachability } from '../../src/kubernetes/reachability.js';

export interface FakeObject {
  metadata: { name: string; namespace: string; resourceVersion: string; uid?: string; generation?: number };
  spec?: { endpoints?: unknown[] };
  status?: DnsEndpointStatus;
}

export class FakeWatch {
  aborted = false;
  private resolveOpen: ((stream: WatchStream) => void) | undefined;
  private rejectOpen: ((err: unknown) => void) | undefined;
  readonly opened: Promise<WatchStream>;

  constructor(
    readonly resourceVersion: string,
    readonly handlers: WatchStreamHandlers,
  ) {
    this.opened = new Promise<WatchStream>((resolve, reject) => {
      this.resolveOpen = resolve;
      this.rejectOpen = reject;
    });
  }

  open(): void {
    this.resolveOpen?.({ abort: () => (this.aborted = true) });
  }

  failToOpen(err: unknown): void {
    // What client-node's Watch does on an HTTP error: done(err), then return the controller.
    this.handlers.onDone(err);
    this.resolveOpen?.({ abort: () => (this.aborted = true) });
  }

  rejectWith(err: unknown): void {
    this.rejectOpen?.(err);
  }

  event(type: string, object: unknown): void {
    this.handlers.onEvent(type, object);
  }

  close(err: unknown = null): void {
    this.handlers.onDone(err);
  }
}

export class FakeListWatch implements ListWatchClient<FakeObject> {
  readonly description = 'fake';
  lists: Array<{ signal: AbortSignal }> = [];
  watches: FakeWatch[] = [];
  /** What the next list calls return (shifted per call); the last entry repeats. */
  listResults: Array<ListResult<FakeObject> | Error | 'hang'> = [];
  /**
   * What the reachability probe answers right now ('hang': never, until its
   * signal aborts). Undefined, the default: the fake has no probe, as a
   * client without one, and the supervisor only backs off.
   */
  reachability: Reachability | 'hang' | undefined = undefined;
  /** When each probe was asked (Date.now()), and its signal. */
  probes: Array<{ at: number; signal: AbortSignal }> = [];
  /**
   * What the stall check (changedSince) answers right now. Undefined, the
   * default: the fake has no such check, as a client without one.
   */
  changedAnswer: boolean | 'unknown' | undefined = undefined;
  /** The resourceVersion each stall check was asked about. */
  stallChecks: string[] = [];
  /** When each list and watch call was made (Date.now()), in order. */
  attempts: Array<{ what: 'list' | 'watch'; at: number }> = [];

  get probe(): ((signal: AbortSignal) => Promise<Reachability>) | undefined {
    if (this.reachability === undefined) return undefined;
    return (signal) => {
      this.probes.push({ at: Date.now(), signal });
      const now = this.reachability;
      if (now === 'hang' || now === undefined) return new Promise<never>(() => {});
      return Promise.resolve(now);
    };
  }

  get changedSince(): ((resourceVersion: string, signal: AbortSignal) => Promise<boolean | undefined>) | undefined {
    if (this.changedAnswer === undefined) return undefined;
    return (resourceVersion) => {
      this.stallChecks.push(resourceVersion);
      const now = this.changedAnswer;
      return Promise.resolve(now === 'unknown' ? undefined : now);
    };
  }

  async list(signal: AbortSignal): Promise<ListResult<FakeObject>> {
    this.lists.push({ signal });
    this.attempts.push({ what: 'list', at: Date.now() });
    const next = this.listResults.length > 1 ? this.listResults.shift() : this.listResults[0];
    if (next === undefined) throw new Error('fake: no list result scripted');
    if (next === 'hang') return new Promise<never>(() => {});
    if (next instanceof Error) throw next;
    return { items: next.items.map((o) => structuredClone(o)), resourceVersion: next.resourceVersion };
  }

  watch(resourceVersion: string, handlers: WatchStreamHandlers): Promise<WatchStream> {
    const w = new FakeWatch(resourceVersion, handlers);
    this.attempts.push({ what: 'watch', at: Date.now() });
    this.watches.push(w);
    return w.opened;
  }

  /** The most recent watch, failing if there is none yet. */
  get last(): FakeWatch {
    const w = this.watches[this.watches.length - 1];
    assert.ok(w, 'no watch started yet');
    return w;
  }
}

export function obj(name: string, rv: string, extra: Partial<FakeObject> = {}, namespace = 'ns'): FakeObject {
  return {
    metadata: { name, namespace, resourceVersion: rv, uid: `uid-${namespace}-${name}`, generation: 1 },
    spec: { endpoints: [{ dnsName: `${name}.example.org`, recordType: 'A', targets: ['192.0.2.1'] }] },
    ...extra,
  };
}

export const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));
