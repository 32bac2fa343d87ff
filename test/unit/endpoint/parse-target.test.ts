import assert from 'node:assert/strict';
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalIPv6, TARGET_PARSERS } from '../../../src/endpoint/parse-target.js';
import type { ServedType } from '../../../src/dns/records.js';

const ok: Array<[ServedType, string, unknown]> = [
  ['A', '192.0.2.1', '192.0.2.1'],
  ['A', '0.0.0.0', '0.0.0.0'],
  ['AAAA', '2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
  ['AAAA', '2001:0db8:0000:0001:0000:0000:0000:0001', '2001:db8:0:1::1'],
  ['AAAA', '2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['AAAA', '2001:db8:1:1:1:1:0:1', '2001:db8:1:1:1:1:0:1'],
  ['AAAA', '::', '::'],
  ['AAAA', '::FFFF:192.0.2.1', '::ffff:192.0.2.1'],
  ['AAAA', '::ffff:c000:0201', '::ffff:192.0.2.1'],
  ['AAAA', '64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
  ['CNAME', 'Target.Example.COM.', 'target.example.com'],
  ['CNAME', 'bücher.example', 'xn--bcher-kva.example'],
  ['CNAME', '例え。example。org', 'xn--r8jz45g.example.org'],
  ['PTR', 'host.example.org', 'host.example.org'],
  ['MX', '10 mail.example.org.', { preference: 10, exchange: 'mail.example.org' }],
  ['MX', '0 .', { preference: 0, exchange: '' }],
  ['SRV', '10 5 5060 sip.example.org.', { priority: 10, weight: 5, port: 5060, target: 'sip.example.org' }],
  ['SRV', '0 0 0 .', { priority: 0, weight: 0, port: 0, target: '' }],
  ['NAPTR', '100 10 "S" "SIP+D2U" "" _sip._udp.example.org.',
    { order: 100, preference: 10, flags: 'S', services: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.org' }],
  ['NAPTR', '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.org!" .',
    { order: 100, preference: 10, flags: 'u', services: 'E2U+sip', regexp: '!^.*$!sip:info@example.org!', replacement: '' }],
  ['NAPTR', String.raw`10 20 "U" "E2U+sip" "!^\+1(.*)$!sip:\1@a\"b\\c!" .`,
    { order: 10, preference: 20, flags: 'U', services: 'E2U+sip', regexp: String.raw`!^\+1(.*)$!sip:\1@a"b\c!`, replacement: '' }],
  ['NAPTR', '1 1 "" "" "" .', { order: 1, preference: 1, flags: '', services: '', regexp: '', replacement: '' }],
  ['CAA', '0 issue "letsencrypt.org"', { flags: 0, tag: 'issue', value: 'letsencrypt.org' }],
  ['CAA', '128 Issue ca.example.net; account=230123', { flags: 128, tag: 'issue', value: 'ca.example.net; account=230123' }],
  ['CAA', '0 iodef "mailto:a\\"b@example.org"', { flags: 0, tag: 'iodef', value: 'mailto:a"b@example.org' }],
  ['CAA', '0 issue ""', { flags: 0, tag: 'issue', value: '' }],
];

const bad: Array<[ServedType, string, string]> = [
  ['A', '1.2.3', '"1.2.3" is not an IPv4 address (expected a dotted quad such as 192.0.2.1, no leading zeros)'],
  ['A', '010.0.0.1', '"010.0.0.1" is not an IPv4 address (expected a dotted quad such as 192.0.2.1, no leading zeros)'],
  ['A', '256.0.0.1', '"256.0.0.1" is not an IPv4 address (expected a dotted quad such as 192.0.2.1, no leading zeros)'],
  ['A', ' 192.0.2.1', '" 192.0.2.1" is not an IPv4 address (expected a dotted quad such as 192.0.2.1, no leading zeros)'],
  ['A', '2001:db8::1', '"2001:db8::1" is not an IPv4 address (expected a dotted quad such as 192.0.2.1, no leading zeros)'],
  ['AAAA', '192.0.2.1', '"192.0.2.1" is not an IPv6 address (expected a form such as 2001:db8::1, without a zone index)'],
  ['AAAA', 'fe80::1%eth0', '"fe80::1%eth0" is not an IPv6 address (expected a form such as 2001:db8::1, without a zone index)'],
  ['AAAA', '1::2::3', '"1::2::3" is not an IPv6 address (expected a form such as 2001:db8::1, without a zone index)'],
  ['CNAME', '*.example.org', 'name "*.example.org" may not be a wildcard here'],
  ['CNAME', '.', '"." is the root; a host name is required'],
  ['CNAME', 'a..example.org', 'name "a..example.org" has an empty label'],
  ['NS', `${'a'.repeat(64)}.example.org`, `label "${'a'.repeat(64)}" of "${'a'.repeat(64)}.example.org" is 64 octets, over the limit of 63`],
  ['PTR', 'a b.example.org', 'label "a b" of "a b.example.org" may hold only letters, digits, "-" and "_"'],
  ['MX', 'mail.example.org', '"mail.example.org" is not of the form <preference> <exchange> (e.g. 10 mail.example.org)'],
  ['MX', '65536 mail.example.org', 'preference "65536" is not an integer in 0..65535'],
  ['MX', '-1 mail.example.org', 'preference "-1" is not an integer in 0..65535'],
  ['MX', '0x10 mail.example.org', 'preference "0x10" is not an integer in 0..65535'],
  ['MX', '10 mail..example.org', 'exchange: name "mail..example.org" has an empty label'],
  ['SRV', '10 5 sip.example.org.', '"10 5 sip.example.org." is not of the form <priority> <weight> <port> <target> (e.g. 10 5 5060 sip.example.org.)'],
  ['SRV', '10 5 70000 sip.example.org.', 'port "70000" is not an integer in 0..65535'],
  ['SRV', '10 1.5 5060 sip.example.org.', 'weight "1.5" is not an integer in 0..65535'],
  ['SRV', '10 5 5060 *.example.org', 'target: name "*.example.org" may not be a wildcard here'],
  ['NAPTR', '100 10 "S" "SIP+D2U" ""', '"100 10 \\"S\\" \\"SIP+D2U\\" \\"\\"" is not of the form <order> <preference> "<flags>" "<services>" "<regexp>" <replacement> (e.g. 100 10 "S" "SIP+D2U" "" _sip._udp.example.org.)'],
  ['NAPTR', '100 10 "S" "SIP+D2U "" .', 'no space after the quoted string "\\"SIP+D2U \\""'],
  ['NAPTR', '100 10 "S" "SIP+D2U" "!x!y! .', 'unterminated quoted string starting at "\\"!x!y! ."'],
  ['NAPTR', '100 10 S+ "SIP" "" x.example.org.', 'flags "S+" may hold only letters and digits (RFC 3403)'],
  ['NAPTR', '100 10 "S" SIP"D2U "" x.example.org.', 'stray double quote in "SIP\\""'],
  ['NAPTR', `1 1 "S" "${'s'.repeat(256)}" "" x.example.org.`, 'services is 256 bytes, over the 255-byte limit of a character-string'],
  ['NAPTR', '100 10 "u" "E2U+sip" "!^.*$!sip:a@b!" x.example.org.',
    'regexp "!^.*$!sip:a@b!" and replacement "x.example.org." are both set; RFC 3403 requires one of them to be empty (replacement ".")'],
  ['CAA', '0 issue', '"0 issue" is not of the form <flags> <tag> <value> (e.g. 0 issue "letsencrypt.org")'],
  ['CAA', '256 issue "ca.example"', 'flags "256" is not an integer in 0..255'],
  ['CAA', '0 is-sue "ca.example"', 'tag "is-sue" must be 1 to 15 letters and digits, e.g. issue, issuewild, iodef'],
  ['CAA', '0 abcdefghijklmnop "x"', 'tag "abcdefghijklmnop" must be 1 to 15 letters and digits, e.g. issue, issuewild, iodef'],
  ['CAA', '0 issue "ca.example" extra', 'value "\\"ca.example\\" extra" has text after the closing quote'],
  ['A', 'x'.repeat(1000), `"${'x'.repeat(297)}..." is not an IPv4 address (expected a dotted quad such as 192.0.2.1, no leading zeros)`],
  ['CNAME', `${'a.'.repeat(500)}example.org`, `name "${'a.'.repeat(148)}a..." is 1013 octets in wire form, over the limit of 255`],
  ['TXT', 'x'.repeat(65535), 'text is 65535 bytes, which makes 65792 bytes of rdata, over the limit of 65535'],
];

describe('endpoint/parse-target', () => {
  describe('accepts and normalises', () => {
    for (const [type, target, want] of ok) {
      it(`${type} ${JSON.stringify(target)}`, () => {
        const r = TARGET_PARSERS[type](target);
        assert.ok(r.ok, r.ok ? '' : r.reason);
        assert.deepEqual(r.data, want);
      });
    }
  });

  describe('rejects with an exact reason', () => {
    for (const [type, target, reason] of bad) {
      it(`${type} ${JSON.stringify(target.length > 40 ? `${target.slice(0, 40)}...` : target)}`, () => {
        assert.deepEqual(TARGET_PARSERS[type](target), { ok: false, reason });
      });
    }
  });

  describe('TXT', () => {
    const txt = (t: string): Buffer[] => {
      const r = TARGET_PARSERS.TXT(t);
      assert.ok(r.ok);
      return r.data;
    };
    it('takes the target as the text, stripping one enclosing pair of quotes', () => {
      assert.deepEqual(txt('v=spf1 -all').map(String), ['v=spf1 -all']);
      assert.deepEqual(txt('"heritage=external-dns,external-dns/owner=default"').map(String), ['heritage=external-dns,external-dns/owner=default']);
      assert.deepEqual(txt('""x""').map(String), ['"x"']);
      assert.deepEqual(txt('"').map(String), ['"']);
    });
    it('gives one empty string for ""', () => {
      assert.deepEqual(txt(''), [Buffer.alloc(0)]);
      assert.deepEqual(txt('""'), [Buffer.alloc(0)]);
    });
    it('splits into 255-byte strings', () => {
      const chunks = txt('a'.repeat(600));
      assert.deepEqual(chunks.map((c) => c.length), [255, 255, 90]);
      assert.deepEqual(txt('a'.repeat(255)).map((c) => c.length), [255]);
    });
    it('never splits inside a UTF-8 character', () => {
      const text = `${'a'.repeat(254)}é${'b'.repeat(10)}`; // é is 2 bytes at offsets 254-255
      const chunks = txt(text);
      assert.deepEqual(chunks.map((c) => c.length), [254, 12]);
      assert.equal(Buffer.concat(chunks).toString('utf8'), text);
    });
    it('accepts the largest text that fits 65535 bytes of rdata', () => {
      const n = 65535 - Math.ceil(65535 / 256);
      assert.equal(txt('x'.repeat(n)).reduce((s, c) => s + 1 + c.length, 0), 65535);
    });
  });

  it('canonicalIPv6 follows RFC 5952 on ties: the first longest zero run', () => {
    assert.equal(canonicalIPv6('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(canonicalIPv6('1:0:0:2:3:0:0:0'), '1:0:0:2:3::');
    assert.equal(canonicalIPv6('0:0:0:0:0:0:0:1'), '::1');
    assert.equal(canonicalIPv6('not-an-address'), undefined);
  });

  it('canonicalIPv6 accepts exactly what node\'s isIPv6 does (zone indexes aside) and writes what the split-and-join form did, on 30,000 generated texts', () => {
    let next = 12345;
    const rnd = (n: number): number => {
      next = (next * 1103515245 + 12345) % 2147483648;
      return Math.floor((next / 2147483648) * n);
    };
    const pieces = ['0', '00', '0000', '00000', '1', 'ff', 'FFFF', 'fFfF', 'db8', '2001', 'abcd', '12345', 'g', '', '1.2.3.4', '255.255.255.255', '256.0.0.1', '01.2.3.4', '1.2.3', ' ', '%eth0'];
    let accepted = 0;
    for (let i = 0; i < 30_000; i++) {
      const groups = Array.from({ length: 1 + rnd(9) }, () => (rnd(3) === 0 ? pieces[rnd(pieces.length)] : rnd(4) === 0 ? '0' : rnd(65536).toString(16)) as string);
      const gap = rnd(3) === 0 ? -1 : rnd(groups.length + 1);
      let text = gap < 0 ? groups.join(':') : `${groups.slice(0, gap).join(':')}::${groups.slice(gap).join(':')}`;
      if (rnd(8) === 0) text = `::ffff:${rnd(256)}.${rnd(256)}.${rnd(256)}.${rnd(256)}`;
      if (rnd(20) === 0) text = text.toUpperCase();
      const got = canonicalIPv6(text);
      const expected = isIPv6(text) && !text.includes('%') ? splitAndJoin(text) : undefined;
      assert.equal(got, expected, JSON.stringify(text));
      if (got !== undefined) accepted++;
    }
    assert.ok(accepted > 5_000 && accepted < 25_000, `${accepted} of 30,000 accepted`);
  });
});

describe('A targets', () => {
  it('accepts exactly what node\'s isIPv4 does, on 20,000 generated texts', () => {
    let next = 99;
    const rnd = (n: number): number => {
      next = (next * 1103515245 + 12345) % 2147483648;
      return Math.floor((next / 2147483648) * n);
    };
    const octets = ['0', '00', '01', '9', '10', '99', '100', '199', '249', '255', '256', '300', '1000', '', 'a', ' 1', '-1', '0x1'];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const parts = Array.from({ length: rnd(3) === 0 ? 2 + rnd(4) : 4 }, () => (rnd(2) === 0 ? String(rnd(256)) : (octets[rnd(octets.length)] as string)));
      let text = parts.join(rnd(30) === 0 ? ':' : '.');
      if (rnd(40) === 0) text += '.';
      const r = TARGET_PARSERS.A(text);
      assert.equal(r.ok, isIPv4(text), JSON.stringify(text));
      if (r.ok) accepted++;
    }
    assert.ok(accepted > 2_000 && accepted < 18_000, `${accepted} of 20,000 accepted`);
  });
});

/** The earlier canonicalIPv6 (strings split and joined), kept as the new one's oracle. */
function splitAndJoin(s: string): string {
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) >= 0) {
    const o = text.slice(lastColon + 1).split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const gap = text.indexOf('::');
  const hex = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const head = gap < 0 ? hex(text) : hex(text.slice(0, gap));
  const tail = gap < 0 ? [] : hex(text.slice(gap + 2));
  const groups = gap < 0 ? head : [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const lo = groups[6] as number;
    const hi = groups[7] as number;
    return `::ffff:${lo >> 8}.${lo & 255}.${hi >> 8}.${hi & 255}`;
  }
  // The first longest run of two or more zero groups, found as text in the full form.
  const full = groups.map((g) => g.toString(16)).join(':');
  let best: RegExpExecArray | undefined;
  for (const m of full.matchAll(/(?<![0-9a-f])0(?::0)+(?![0-9a-f])/g)) if (!best || m[0].length > best[0].length) best = m;
  if (!best) return full;
  return `${full.slice(0, best.index).replace(/:$/, '')}::${full.slice(best.index + best[0].length).replace(/^:/, '')}`;
}
