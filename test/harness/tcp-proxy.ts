/**
 * A loopback TCP proxy that can turn its open connections into half-open
 * ones: freeze() stops forwarding on every current connection while keeping
 * the sockets open, so the client sees a silent, healthy-looking stream (what
 * a dead NAT entry or a vanished peer looks like). New connections still go
 * through, so a client that gives up on the frozen one and reconnects recovers.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  frozen: boolean;
}

export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private readonly server: Server;
  private listeningPort = 0;

  private constructor(
    private readonly targetPort: number,
    private readonly targetHost: string,
  ) {
    this.server = createServer((client) => this.connect(client));
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort, targetHost);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    const address = proxy.server.address();
    if (!address || typeof address === 'string') throw new Error('proxy has no port');
    proxy.listeningPort = address.port;
    return proxy;
  }

  get port(): number {
    return this.listeningPort;
  }

  /** Connections forwarding right now. */
  get connections(): number {
    return [...this.pairs].filter((p) => !p.frozen).length;
  }

  /** Silently stops forwarding on every open connection; returns how many were frozen. */
  freeze(): number {
    let n = 0;
    for (const pair of this.pairs) {
      if (!pair.frozen) n++;
      pair.frozen = true;
    }
    return n;
  }

  async stop(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private connect(client: Socket): void {
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    const pair: Pair = { client, upstream, frozen: false };
    this.pairs.add(pair);
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (!pair.frozen) to.write(chunk);
      });
      from.on('end', () => {
        if (!pair.frozen) to.end();
      });
      from.on('error', () => {
        if (!pair.frozen) to.destroy();
      });
      from.on('close', () => {
        if (pair.frozen) return;
        this.pairs.delete(pair);
        to.destroy();
      });
    };
    forward(client, upstream);
    forward(upstream, client);
  }
}
