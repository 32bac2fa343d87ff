/**
 * An EndpointSink that records every call and holds the state a real sink
 * would, for tests of sources against real peers. `onChange` lets a test hook
 * in a stand-in for the catalog (e.g. validate and report status).
 */
import assert from 'node:assert/strict';
import type { EndpointObject, EndpointSink } from '../../src/endpoint/endpoint.js';

export type SinkCall =
  | { op: 'replaceAll'; keys: string[]; at: number }
  | { op: 'upsert'; key: string; at: number }
  | { op: 'remove'; key: string; at: number }
  | { op: 'synced'; at: number };

export class RecordingSink implements EndpointSink {
  calls: SinkCall[] = [];
  state = new Map<string, EndpointObject>();
  isSynced = false;

  constructor(private readonly onChange?: (sink: RecordingSink, changed: readonly EndpointObject[]) => void) {}

  replaceAll(objects: readonly EndpointObject[]): void {
    this.calls.push({ op: 'replaceAll', keys: objects.map((o) => o.key).sort(), at: Date.now() });
    this.state = new Map(objects.map((o) => [o.key, o]));
    this.onChange?.(this, objects);
  }

  upsert(object: EndpointObject): void {
    this.calls.push({ op: 'upsert', key: object.key, at: Date.now() });
    this.state.set(object.key, object);
    this.onChange?.(this, [object]);
  }

  remove(key: string): void {
    this.calls.push({ op: 'remove', key, at: Date.now() });
    this.state.delete(key);
  }

  synced(): void {
    this.calls.push({ op: 'synced', at: Date.now() });
    this.isSynced = true;
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
      lastCalls: this.calls.slice(-10).map((c) => ('key' in c ? `${c.op}(${c.key})` : 'keys' in c ? `${c.op}(${c.keys.join(',')})` : c.op)),
    });
  }
}

/** Polls `check` until it holds; fails naming `what` and `describe()` at the deadline. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  describe: () => string = () => '',
  timeoutMs = 60_000,
  intervalMs = 5,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; ${describe()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
