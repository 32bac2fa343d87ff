/**
 * Loopback ports for the peers tests start. A port is probed free and then
 * handed to a process that binds it later, so two things can still collide:
 * another process can take it in between (the caller retries on "address
 * already in use"), and this process must never hand the same port out twice
 * (two probes in a row can find the same free port; etcd and the API server
 * then fight over it for good). `given` rules out the second.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const HOST = '127.0.0.1';
const given = new Set<number>();

function tcpFree(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, HOST, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
    });
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, HOST, () => s.close(() => resolve(true)));
  });
}

/** A port free on 127.0.0.1 for both TCP and UDP at the time of asking, chosen by the kernel. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await tcpFree(0);
    if (port === undefined || given.has(port)) continue;
    if (await udpFree(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error('no port free for both TCP and UDP on 127.0.0.1 after 20 tries');
}

/** scripts/node.sh owns PORT_BASE+n, n < 1000, for the one-node cluster. */
function nodeClusterPorts(): [number, number] {
  const base = Number(process.env.CRDNS_NODE_PORT_BASE ?? 26000) || 26000;
  return [base, base + 999];
}

/**
 * A free TCP port BELOW the kernel's ephemeral range, for a server restarted
 * on the same port after being down a while (etcd, the API server). A port
 * from the ephemeral range can meanwhile become the local port of some
 * process's outgoing connection, and the restart then fails with "address
 * already in use"; ports outside the range never are.
 */
export async function freeStablePort(): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // Not Linux: keep the IANA default.
  }
  const floor = 20000;
  const [nodeLow, nodeHigh] = nodeClusterPorts();
  if (low - floor > 2000) {
    for (let i = 0; i < 50; i++) {
      const candidate = floor + Math.floor(Math.random() * (low - floor));
      if (given.has(candidate) || (candidate >= nodeLow && candidate <= nodeHigh)) continue;
      const port = await tcpFree(candidate);
      if (port !== undefined) {
        given.add(port);
        return port;
      }
    }
  }
  return freePort();
}
