// The port pickers the harness starts peers on: a port is never handed out
// twice in one process (two peers of one control plane once drew the same
// one), and stable ports stay out of the ephemeral range and the one-node
// cluster's block.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { freePort, freeStablePort } from '../../harness/ports.js';

describe('harness ports', () => {
  it('never hands out the same port twice in one process', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const port = i % 2 ? await freePort() : await freeStablePort();
      assert.ok(!seen.has(port), `port ${port} handed out twice`);
      seen.add(port);
    }
  });

  it('picks stable ports below the ephemeral range and outside the node cluster block', async () => {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    for (let i = 0; i < 200; i++) {
      const port = await freeStablePort();
      // With no room below the range, the kernel picks (from within it).
      if (low - 20000 <= 2000) assert.ok(port >= low, `${port} below the ephemeral range ${low}`);
      else assert.ok(port >= 20000 && port < low, `${port} outside [20000, ${low})`);
      assert.ok(port < 26000 || port > 26999, `${port} is the node cluster's`);
    }
  });
});
