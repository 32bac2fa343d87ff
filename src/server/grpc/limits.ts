/**
 * Message size cap, each way: the largest DNS message plus protobuf framing,
 * as CoreDNS itself sets it. Its own module so the server does not load
 * grpc-js (protos.ts) just to read a number.
 */
export const MAX_GRPC_MESSAGE_BYTES = 65535 + 4;
