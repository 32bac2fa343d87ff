/**
 * gRPC status codes crdns sends, and how a status travels: in the
 * `grpc-status` / `grpc-message` trailers, the message percent-encoded as the
 * gRPC over HTTP/2 spec requires (every byte outside printable ASCII, and %).
 */

export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

export type StatusCode = (typeof Status)[keyof typeof Status];

export function encodeGrpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A failed call's status as the fields of the HTTP/2 header block that carries it. */
export interface FailedStatus {
  readonly code: StatusCode;
  readonly message: string;
}
