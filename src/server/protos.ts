/**
 * Clients of the .proto contracts shipped in proto/ at the package root, for
 * `crdns query`, the probe and tests; the server has its own codec
 * (grpc/protobuf.ts).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync } from 'node:fs';

function protoDir(): string {
  // src/server in a checkout run by tsx, dist/src/server once compiled: walk up to the folder holding proto/.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'proto', 'dns.proto'))) return path.join(dir, 'proto');
    dir = path.dirname(dir);
  }
  throw new Error('proto/dns.proto not found above the crdns modules');
}

/** Bytes stay Buffers; no conversion of enums or longs is needed for these two small contracts. */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, enums: String, defaults: true };

export function loadProto(file: 'dns.proto' | 'health.proto'): grpc.GrpcObject {
  const def = protoLoader.loadSync(path.join(protoDir(), file), LOADER_OPTIONS);
  return grpc.loadPackageDefinition(def);
}

export function dnsServiceClient(): grpc.ServiceClientConstructor {
  const pkg = loadProto('dns.proto') as unknown as { coredns: { dns: { DnsService: grpc.ServiceClientConstructor } } };
  return pkg.coredns.dns.DnsService;
}

export function healthServiceClient(): grpc.ServiceClientConstructor {
  const pkg = loadProto('health.proto') as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
  return pkg.grpc.health.v1.Health;
}

export { MAX_GRPC_MESSAGE_BYTES } from './grpc/limits.js';
