/** Flag parsing: ranges declared once on the FlagSpec, environment booleans only in their documented spellings. */
import assert from 'node:assert/strict';
import { MAX_INT31, parseFlags, UsageError, type FlagSpec } from '../../../src/cli/options.js';

const SPECS: FlagSpec[] = [
  { name: 'ttl', kind: 'int', help: '', default: '300' },
  { name: 'idle', kind: 'int', help: '', default: '600', min: 1, max: 3600 },
  { name: 'follow', kind: 'boolean', help: '' },
  { name: 'ns', kind: 'list', help: '' },
];

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseFlags(SPECS, argv, env);

describe('cli options', () => {
  it('an int is 0..2^31-1 unless its spec says otherwise', () => {
    assert.equal(parse(['--ttl', '0']).values.ttl, 0);
    assert.equal(parse(['--ttl', String(MAX_INT31)]).values.ttl, MAX_INT31);
    assert.throws(() => parse(['--ttl', String(MAX_INT31 + 1)]), (e: Error) => e instanceof UsageError && /--ttl must be from 0 to 2147483647, not 2147483648/.test(e.message));
    assert.throws(() => parse(['--idle', '0']), /--idle must be from 1 to 3600, not 0/);
    assert.throws(() => parse(['--idle', '3601']), /--idle must be from 1 to 3600/);
    assert.throws(() => parse(['--ttl', '1e3']), /--ttl must be a whole number, not "1e3"/);
  });

  it('a value from the environment is checked the same way and says where it came from', () => {
    assert.equal(parse([], { CRDNS_TTL: '60' }).values.ttl, 60);
    assert.throws(() => parse([], { CRDNS_TTL: '5000000000' }), /--ttl must be from 0 to 2147483647, not 5000000000 \(from CRDNS_TTL\)/);
  });

  it('defaults are checked too, so a spec cannot ship an out-of-range default', () => {
    assert.throws(() => parseFlags([{ name: 'x', kind: 'int', help: '', default: '0', min: 1 }], [], {}), /--x must be from 1/);
  });

  it('environment booleans: 1/true/yes and 0/false/no/empty in any case, nothing else', () => {
    for (const v of ['1', 'true', 'TRUE', 'yes', 'Yes']) assert.equal(parse([], { CRDNS_FOLLOW: v }).values.follow, true, v);
    for (const v of ['0', 'false', 'No', '']) assert.equal(parse([], { CRDNS_FOLLOW: v }).values.follow, false, v);
    for (const v of ['maybe', 'on', 'off', '2', 'y']) assert.throws(() => parse([], { CRDNS_FOLLOW: v }), new RegExp(`CRDNS_FOLLOW must be one of .* not "${v}"`), v);
  });

  it('a boolean flag takes no value', () => {
    assert.throws(() => parse(['--follow=yes']), UsageError);
  });

  it('tells flags that were given from defaults', () => {
    assert.deepEqual([...parse(['--ns', 'a']).given], ['ns']);
    assert.deepEqual([...parse([], { CRDNS_IDLE: '60' }).given], ['idle']);
    assert.deepEqual([...parse([], { CRDNS_IDLE: '' }).given], [], 'an empty variable is as good as unset');
  });
});
