/**
 * Random and mutated manifest files for bench/fuzz-manifests.ts: the example
 * manifests and generated DNSEndpoints, then byte flips, truncation, YAML
 * syntax dropped in at random, deep nesting, huge strings and lists, alias
 * bombs, swapped value types, misspelt kinds. Seeded, so any input can be
 * regenerated from its seed and index.
 */
import { rng } from '../test/support/fuzz-messages.js';

export interface FuzzInput {
  /** File name, extension included: .yaml, .yml or .json, the wrong one now and then. */
  name: string;
  bytes: Buffer;
  /** Which mutation made it, for the summary. */
  kind: string;
}

const TYPES = ['A', 'AAAA', 'CNAME', 'DNAME', 'MX', 'SRV', 'NAPTR', 'TXT', 'PTR', 'NS', 'CAA', 'SOA', 'SPF', 'a', 'HTTPS', ''];
const YAML_BITS = ['&a ', '*a', '!!binary ', '!!str ', '!!int ', '!!map ', '!!seq ', '!<tag:x> ', '<<: *a\n', '{', '}', '[', ']', '"', "'", ': ', '- ', '\t', '%YAML 1.1\n', '---\n', '...\n', '? ', '|\n', '>-\n', '# ', '\\', '\u0000', '\ufeff', '\r', '\n  ', 'null', '~', '.inf', '-.nan', '0x1F', '1e400', '0o17', '2001-01-01T00:00:00Z', '\u202e', '\ud800'];
const SCALARS = ['null', '~', '[]', '{}', '1e400', '-0', '0x10', '.inf', 'true', 'no', '2001-01-01', '"\\u0000"', '18446744073709551616', '-1', '"x"', '!!binary AAAA', '*a'];

export class ManifestFuzzer {
  private readonly r: () => number;
  private readonly bases: Array<{ name: string; text: string }>;

  constructor(seed: number, examples: Array<{ name: string; text: string }>) {
    this.r = rng(seed);
    this.bases = examples;
  }

  private pick(n: number): number {
    return Math.floor(this.r() * n);
  }

  private one<T>(xs: readonly T[]): T {
    return xs[this.pick(xs.length)] as T;
  }

  private randomString(max: number): string {
    const alphabet = 'abcdefxyz0129.-_*"\\ ü\u3002:@/%#{}[],&!|>\'\t';
    return Array.from({ length: this.pick(max) }, () => alphabet[this.pick(alphabet.length)]).join('');
  }

  /** A DNSEndpoint with random, often wrong, endpoints, as YAML or JSON text. */
  private generated(): { name: string; text: string } {
    const endpoints = Array.from({ length: this.pick(12) }, () => {
      const e: Record<string, unknown> = {};
      if (this.pick(10) > 0) e.dnsName = this.pick(4) ? `${this.randomString(12) || 'h'}.5gc.mnc001.mcc001.3gppnetwork.org` : this.randomString(300);
      if (this.pick(10) > 0) e.recordType = this.one(TYPES);
      if (this.pick(10) > 0) e.targets = Array.from({ length: this.pick(5) }, () => (this.pick(8) ? this.randomString(40) : this.pick(1000)));
      if (this.pick(3) === 0) e.recordTTL = this.one([0, 1, 60, -1, 2 ** 31, 1.5, '60', null, 1e300]);
      if (this.pick(6) === 0) e.setIdentifier = this.one(['a', 1, null, {}]);
      if (this.pick(6) === 0) e.labels = this.one([{ a: 'b' }, { a: 1 }, [], 'x']);
      return this.pick(20) ? e : this.one([null, 'junk', 7, []]);
    });
    const doc = {
      apiVersion: this.pick(10) ? 'externaldns.k8s.io/v1alpha1' : this.one(['v1', 'externaldns.k8s.io/v1', '', 'externaldns.k8s.io/v1alpha1 ']),
      kind: this.pick(10) ? 'DNSEndpoint' : this.one(['DnsEndpoint', 'dnsendpoint', 'DNSEndpointList', 'List', 'ConfigMap', 'Endpoint']),
      metadata: this.pick(10) ? { name: this.pick(5) ? `fuzz-${this.pick(50)}` : this.randomString(20), namespace: this.one(['5gc', 'ims', 'fuzz', undefined, 'Bad_NS']) } : this.one([null, 'x', []]),
      spec: this.pick(12) ? { endpoints } : this.one([null, [], 'x', { endpoints: 'x' }]),
    };
    if (this.pick(2)) return { name: 'gen.json', text: JSON.stringify(doc, null, this.pick(3)) };
    // Flow-style YAML from JSON is still YAML; a few documents per file like a real folder.
    const docs = Array.from({ length: 1 + this.pick(3) }, () => JSON.stringify(doc));
    return { name: 'gen.yaml', text: docs.join('\n---\n') };
  }

  next(): FuzzInput {
    const base = this.pick(4) === 0 ? this.generated() : this.one(this.bases);
    const ext = this.pick(10) === 0 ? this.one(['.yaml', '.yml', '.json']) : base.name.slice(base.name.lastIndexOf('.'));
    const name = `fuzz${ext}`;
    const text = base.text;
    const at = () => this.pick(text.length + 1);
    const out = (kind: string, t: string | Buffer): FuzzInput => ({ name, kind, bytes: typeof t === 'string' ? Buffer.from(t, 'utf8') : t });
    switch (this.pick(12)) {
      case 0: {
        const b = Buffer.from(text, 'utf8');
        for (let i = 0, n = 1 + this.pick(8); i < n && b.length > 0; i++) b[this.pick(b.length)] ^= 1 << this.pick(8);
        return out('byte flips', b);
      }
      case 1:
        return out('truncation', Buffer.from(text, 'utf8').subarray(0, this.pick(Buffer.byteLength(text) + 1)));
      case 2: {
        let t = text;
        for (let i = 0, n = 1 + this.pick(6); i < n; i++) {
          const p = this.pick(t.length + 1);
          t = t.slice(0, p) + this.one(YAML_BITS) + t.slice(p);
        }
        return out('YAML syntax inserted', t);
      }
      case 3: {
        const lines = text.split('\n');
        for (let i = 0, n = 1 + this.pick(4); i < n; i++) {
          const j = this.pick(lines.length);
          if (this.pick(2)) lines.splice(j, 1);
          else lines.splice(j, 0, lines[this.pick(lines.length)] as string);
        }
        return out('lines dropped or repeated', lines.join('\n'));
      }
      case 4: {
        const depth = this.one([100, 1000, 10_000, 100_000]);
        const style = this.pick(4);
        const nest =
          style === 0 ? '['.repeat(depth) + ']'.repeat(depth)
          : style === 1 ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
          : style === 2 ? Array.from({ length: Math.min(depth, 5000) }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1'
          : '- '.repeat(Math.min(depth, 20_000)) + 'x';
        const p = at();
        return out(`nesting ${depth}`, this.pick(2) ? nest : text.slice(0, p) + nest + text.slice(p));
      }
      case 5: {
        const size = this.one([10_000, 100_000, 1_000_000]);
        const huge = this.one(['x', 'a.', '\\"', 'ü', '1 ']).repeat(size / 2);
        const t = this.pick(2) ? text.replace(/(targets:\s*\[?\s*-?\s*)/, `$1${JSON.stringify(huge)}, `) : text.replace(/dnsName: [^\n,}]+/, `dnsName: ${JSON.stringify(huge)}`);
        return out(`huge string ${size}`, t);
      }
      case 6: {
        // Rare and at most 20,000 endpoints: one such file takes seconds to parse, and 100,000 inputs must finish.
        if (this.pick(8) !== 0) return out('generated', this.generated().text);
        const n = this.one([1000, 1000, 5000, 20_000]);
        const eps = Array.from({ length: n }, (_, i) => `  - {dnsName: h${i}.5gc.mnc001.mcc001.3gppnetwork.org, recordType: A, targets: [10.9.${(i >> 8) & 255}.${i & 255}]}`).join('\n');
        return out(`huge list ${n}`, `apiVersion: externaldns.k8s.io/v1alpha1\nkind: DNSEndpoint\nmetadata: {name: big${this.pick(3)}, namespace: fuzz}\nspec:\n  endpoints:\n${eps}\n`);
      }
      case 7: {
        // The billion laughs, at a few widths: the parser's alias limit must hold.
        const width = 2 + this.pick(9);
        const levels = 3 + this.pick(8);
        const rows = [`a0: &a0 [${Array(width).fill('"lol"').join(', ')}]`];
        for (let i = 1; i < levels; i++) rows.push(`a${i}: &a${i} [${Array(width).fill(`*a${i - 1}`).join(', ')}]`);
        const bomb = `apiVersion: externaldns.k8s.io/v1alpha1\nkind: DNSEndpoint\nmetadata: {name: bomb, namespace: fuzz}\n${rows.join('\n')}\nspec:\n  endpoints:\n  - {dnsName: b.5gc.mnc001.mcc001.3gppnetwork.org, recordType: TXT, targets: *a${levels - 1}}\n`;
        return out('alias bomb', bomb);
      }
      case 8: {
        let t = text;
        for (let i = 0, n = 1 + this.pick(4); i < n; i++) t = t.replace(this.one([/targets:/, /recordType: \w+/, /recordTTL: \d+/, /name: [\w-]+/, /endpoints:/]), (m) => `${m.split(':')[0]}: ${this.one(SCALARS)}`);
        return out('value types swapped', t);
      }
      case 9: {
        const t = text.replace(/kind: DNSEndpoint/g, () => `kind: ${this.one(['DnsEndpoint', 'DNSEndpoint', 'dnsendpoint', 'DNSEndpoints', 'List', 'Secret'])}`);
        return out('kinds changed', this.pick(2) ? t : `apiVersion: v1\nkind: List\nitems:\n${t.split('\n').map((l) => `  ${l}`).join('\n')}`);
      }
      case 10:
        return out('random bytes', Buffer.from(Array.from({ length: this.pick(2000) }, () => this.pick(256))));
      default:
        return out('generated', text);
    }
  }
}
