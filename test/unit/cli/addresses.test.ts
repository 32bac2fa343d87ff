/** Listening and dialling addresses as flags spell them. */
import assert from 'node:assert/strict';
import { parseAddress } from '../../../src/cli/addresses.js';
import { UsageError } from '../../../src/cli/options.js';

describe('cli addresses', () => {
  it('parses host:port, [v6]:port, :port and unix:///path', () => {
    assert.deepEqual(parseAddress('listen', '127.0.0.1:8053', { unix: true }), { kind: 'tcp', flag: 'listen', text: '127.0.0.1:8053', host: '127.0.0.1', port: 8053 });
    assert.deepEqual(parseAddress('listen', '[::1]:0', { unix: true }), { kind: 'tcp', flag: 'listen', text: '[::1]:0', host: '::1', port: 0 });
    assert.deepEqual(parseAddress('http', ':9253', { unix: false }), { kind: 'tcp', flag: 'http', text: ':9253', host: '', port: 9253 });
    assert.deepEqual(parseAddress('listen', 'localhost:53', { unix: true }), { kind: 'tcp', flag: 'listen', text: 'localhost:53', host: 'localhost', port: 53 });
    assert.deepEqual(parseAddress('listen', 'unix:///run/crdns.sock', { unix: true }), { kind: 'unix', flag: 'listen', text: 'unix:///run/crdns.sock', path: '/run/crdns.sock' });
  });

  const bad: Array<[string, boolean, RegExp]> = [
    ['garbage', true, /must be host:port/],
    ['::1:53', true, /must be host:port/],
    ['127.0.0.1:65536', true, /port "65536" is not a number from 0 to 65535/],
    ['127.0.0.1:', true, /port "" is not a number/],
    ['[127.0.0.1]:53', true, /in brackets is not an IPv6 address/],
    ['1.2.3.4.5:53', true, /neither an IP address nor a host name/],
    ['bad_host:53', true, /neither an IP address nor a host name/],
    ['unix://rel.sock', true, /must be absolute/],
    ['unix:/x.sock', true, /unix:\/\/\/absolute\/path/],
    ['unix:///x.sock', false, /unix socket is not supported here/],
    [`unix:///${'a'.repeat(110)}`, true, /too long/],
  ];
  for (const [text, unix, re] of bad) {
    it(`refuses ${JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text)}${unix ? '' : ' where sockets are not supported'}`, () => {
      assert.throws(() => parseAddress('listen', text, { unix }), (e: Error) => e instanceof UsageError && e.message.startsWith(`--listen ${JSON.stringify(text)}: `) && re.test(e.message));
    });
  }
});
