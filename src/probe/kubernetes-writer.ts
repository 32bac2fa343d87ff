/**
 * Writes DNSEndpoints through a cluster's API server with plain JSON
 * requests (kubernetes/client.ts). Updates are merge patches of spec, as
 * `kubectl patch --type merge` sends: crdns writes status on the same
 * objects, so a PUT would race it for the resourceVersion.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { getJson, sendJson } from '../kubernetes/client.js';
import { describeError, httpStatusOf } from '../kubernetes/errors.js';
import type { RecordWriter } from './record-writer.js';
import { dnsEndpointFor, OWNER_LABEL, type ProbeName } from './records.js';

export interface KubernetesWriterOptions {
  cluster: string;
  kubeConfig: KubeConfig;
  namespace: string;
  id: string;
  runId: string;
  ttl: number;
  /** Per request; a write without an answer by then counts as failed. */
  timeoutMs: number;
}

const MERGE_PATCH = 'application/merge-patch+json';

export class KubernetesWriter implements RecordWriter {
  readonly cluster: string;
  private readonly base: string;

  constructor(private readonly o: KubernetesWriterOptions) {
    this.cluster = o.cluster;
    this.base = `/apis/externaldns.k8s.io/v1alpha1/namespaces/${encodeURIComponent(o.namespace)}/dnsendpoints`;
  }

  private signal(): AbortSignal {
    return AbortSignal.timeout(this.o.timeoutMs);
  }

  private body(name: ProbeName, version: number) {
    return dnsEndpointFor(name, version, { id: this.o.id, runId: this.o.runId, namespace: this.o.namespace, ttl: this.o.ttl });
  }

  async put(name: ProbeName, version: number, op: 'create' | 'update'): Promise<void> {
    const body = this.body(name, version);
    const patch = { metadata: { labels: body.metadata.labels, annotations: body.metadata.annotations }, spec: body.spec };
    const url = `${this.base}/${encodeURIComponent(name.object)}`;
    try {
      if (op === 'create') await sendJson(this.o.kubeConfig, 'POST', this.base, body, this.signal());
      else await sendJson(this.o.kubeConfig, 'PATCH', url, patch, this.signal(), MERGE_PATCH);
    } catch (err) {
      // An earlier write that "failed" may have happened after all: make it so either way.
      const status = httpStatusOf(err);
      if (op === 'create' && status === 409) await this.wrap(() => sendJson(this.o.kubeConfig, 'PATCH', url, patch, this.signal(), MERGE_PATCH));
      else if (op === 'update' && status === 404) await this.wrap(() => sendJson(this.o.kubeConfig, 'POST', this.base, body, this.signal()));
      else throw new Error(describeError(err));
    }
  }

  async remove(name: ProbeName): Promise<void> {
    try {
      await sendJson(this.o.kubeConfig, 'DELETE', `${this.base}/${encodeURIComponent(name.object)}`, undefined, this.signal());
    } catch (err) {
      if (httpStatusOf(err) !== 404) throw new Error(describeError(err));
    }
  }

  async cleanup(): Promise<number> {
    const list = (await this.wrap(() => getJson(this.o.kubeConfig, this.base, { labelSelector: `${OWNER_LABEL}=${this.o.id}` }, this.signal()))) as { items?: { metadata?: { name?: unknown } }[] };
    const names = (list.items ?? []).map((i) => i.metadata?.name).filter((n): n is string => typeof n === 'string');
    for (const n of names) {
      try {
        await sendJson(this.o.kubeConfig, 'DELETE', `${this.base}/${encodeURIComponent(n)}`, undefined, this.signal());
      } catch (err) {
        if (httpStatusOf(err) !== 404) throw new Error(`deleting ${this.o.namespace}/${n}: ${describeError(err)}`);
      }
    }
    return names.length;
  }

  private async wrap<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw new Error(describeError(err));
    }
  }
}
