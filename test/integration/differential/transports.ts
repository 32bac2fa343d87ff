/**
 * `Ask` functions for the differential: DNS over TCP (RFC 1035 §4.2.2, one
 * connection reused, one query in flight), DNS over UDP, and crdns's gRPC
 * Query. Each rejects after `timeoutMs` so a server that drops a message
 * shows up as an error in the report instead of hanging the test.
 */
import { createConnection, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import * as grpc from '@grpc/grpc-js';
import { dnsServiceClient, MAX_GRPC_MESSAGE_BYTES } from '../../../src/server/protos.js';
import type { Ask } from './compare.js';

export interface Asker {
  ask: Ask;
  close(): void;
}

export function tcpAsker(host: string, port: number, timeoutMs = 5000): Asker {
  let sock: Socket | undefined;
  let buf = Buffer.alloc(0);
  let pending: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  let chain: Promise<unknown> = Promise.resolve();

  const connect = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = createConnection({ host, port });
      s.setNoDelay(true);
      s.once('connect', () => resolve(s));
      s.on('error', (e) => {
        if (sock === s) sock = undefined;
        pending?.reject(e);
        pending = undefined;
        reject(e);
      });
      s.on('close', () => {
        if (sock === s) sock = undefined;
        pending?.reject(new Error('connection closed before the reply'));
        pending = undefined;
      });
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + msg.length);
          const p = pending;
          pending = undefined;
          p?.resolve(Buffer.from(msg));
        }
      });
    });

  const once = async (query: Buffer): Promise<Buffer> => {
    if (!sock) {
      buf = Buffer.alloc(0);
      sock = await connect();
    }
    const s = sock;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending = undefined;
        // The stream may still deliver the late reply; start over on a fresh connection.
        s.destroy();
        if (sock === s) sock = undefined;
        reject(new Error(`no reply over TCP from ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      pending = {
        resolve: (b) => { clearTimeout(timer); resolve(b); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      s.write(Buffer.concat([len, query]));
    });
  };

  return {
    ask: (query) => {
      const p = chain.then(() => once(query));
      chain = p.catch(() => undefined);
      return p;
    },
    close: () => {
      sock?.destroy();
      sock = undefined;
    },
  };
}

export function udpAsker(host: string, port: number, timeoutMs = 5000): Asker {
  return {
    ask: (query) =>
      new Promise((resolve, reject) => {
        const s = createSocket('udp4');
        const timer = setTimeout(() => {
          s.close();
          reject(new Error(`no reply over UDP from ${host}:${port} within ${timeoutMs} ms`));
        }, timeoutMs);
        s.once('message', (msg) => {
          clearTimeout(timer);
          s.close();
          resolve(msg);
        });
        s.once('error', (e) => {
          clearTimeout(timer);
          s.close();
          reject(e);
        });
        s.send(query, port, host);
      }),
    close: () => undefined,
  };
}

/** coredns.dns.DnsService/Query: the raw message in, the raw reply out. */
export function grpcAsker(address: string, timeoutMs = 5000): Asker {
  const Client = dnsServiceClient();
  const client = new Client(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES,
  }) as unknown as grpc.Client & {
    Query: (req: { msg: Buffer }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { msg: Buffer }) => void) => void;
  };
  return {
    ask: (query) =>
      new Promise((resolve, reject) => {
        client.Query({ msg: query }, { deadline: Date.now() + timeoutMs }, (err, res) => {
          if (err) reject(new Error(`gRPC ${grpc.status[err.code]}: ${err.details}`));
          else resolve(Buffer.from(res?.msg ?? Buffer.alloc(0)));
        });
      }),
    close: () => client.close(),
  };
}
