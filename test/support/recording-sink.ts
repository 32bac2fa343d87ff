/**
 * An EndpointSink that records every call and holds the state a real sink
 * would, for tests of sources (unit tests and against real peers). `onChange` lets a test hook
 * in a stand-in for the catalog (e.g. validate and report status).
 */
import type { EndpointObject, EndpointSink } from '../../src/endpoint/endpoint.js';

export type SinkCall = { op: 'replaceAll'; keys: string[] } | { op: 'upsert'; key: string } | { op: 'remove'; key: string } | { op: 'synced' };

export class RecordingSink implements EndpointSink {
  calls: SinkCall[] = [];
  state = new Map<string, EndpointObject>();
  isSynced = false;

  constructor(private readonly onChange?: (sink: RecordingSink, changed: readonly EndpointObject[]) => void) {}

  replaceAll(objects: readonly EndpointObject[]): void {
    this.calls.push({ op: 'replaceAll', keys: objects.map((o) => o.key).sort() });
    this.state = new Map(objects.map((o) => [o.key, o]));
    this.onChange?.(this, objects);
  }

  upsert(object: EndpointObject): void {
    this.calls.push({ op: 'upsert', key: object.key });
    this.state.set(object.key, object);
    this.onChange?.(this, [object]);
  }

  remove(key: string): void {
    this.calls.push({ op: 'remove', key });
    this.state.delete(key);
  }

  synced(): void {
    this.calls.push({ op: 'synced' });
    this.isSynced = true;
  }

  /** The calls as short strings, e.g. "upsert(ns/name)", for compact assertions. */
  log(): string[] {
    return this.calls.map(callText);
  }

  /** The first target of endpoint `index` of object `key`. */
  target(key: string, index = 0): string | undefined {
    return this.targets(key, index)?.[0];
  }

  keys(): string[] {
    return [...this.state.keys()].sort();
  }

  /** targets of endpoint `index` of object `key`, or undefined. */
  targets(key: string, index = 0): string[] | undefined {
    const ep = this.state.get(key)?.endpoints[index] as { targets?: string[] } | undefined;
    return ep?.targets;
  }

  summary(): string {
    return JSON.stringify({
      synced: this.isSynced,
      state: Object.fromEntries([...this.state].map(([k, o]) => [k, { generation: o.origin.generation, endpoints: o.endpoints }])),
      lastCalls: this.calls.slice(-10).map(callText),
    });
  }
}

function callText(c: SinkCall): string {
  return 'key' in c ? `${c.op}(${c.key})` : 'keys' in c ? `${c.op}(${c.keys.join(',')})` : c.op;
}
