/**
 * Listening and dialling addresses as flags spell them: `host:port`,
 * `[v6]:port`, `:port` (every address family) or `unix:///absolute/path`.
 * Parsed before anything binds, so a typo is a usage error naming its flag
 * rather than whatever a resolver says after the first listener is up.
 */
import { isIP } from 'node:net';
import { UsageError } from './options.js';

export type ListenAddress =
  | { kind: 'tcp'; flag: string; text: string; host: string; port: number }
  | { kind: 'unix'; flag: string; text: string; path: string };

/** sun_path holds 108 bytes on Linux, the terminating NUL included. */
const MAX_UNIX_PATH_BYTES = 107;

// RFC 1123 host names; a resolver would accept more, but nothing more is a sensible bind address.
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function parseAddress(flag: string, text: string, opts: { unix: boolean }): ListenAddress {
  const bad = (why: string) => new UsageError(`--${flag} ${JSON.stringify(text)}: ${why}`);
  if (text.startsWith('unix:')) {
    if (!opts.unix) throw bad('must be host:port (a unix socket is not supported here)');
    if (!text.startsWith('unix://')) throw bad('write a unix socket as unix:///absolute/path');
    const path = text.slice('unix://'.length);
    if (!path.startsWith('/')) throw bad('the socket path must be absolute: unix:///absolute/path');
    if (Buffer.byteLength(path) > MAX_UNIX_PATH_BYTES) throw bad(`the socket path is too long (${Buffer.byteLength(path)} bytes; a unix socket path holds at most ${MAX_UNIX_PATH_BYTES})`);
    return { kind: 'unix', flag, text, path };
  }
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(text);
  if (!m) throw bad(`must be host:port, [IPv6]:port, :port${opts.unix ? ' or unix:///path' : ''}`);
  const host = m[1] ?? m[2] ?? '';
  const portText = m[3] ?? '';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw bad(`port ${JSON.stringify(portText)} is not a number from 0 to 65535`);
  if (m[1] !== undefined && isIP(host) !== 6) throw bad(`${JSON.stringify(host)} in brackets is not an IPv6 address`);
  // Dotted digits are an IPv4 address or nothing: "1.2.3.4.5" must not go to a resolver as a host name.
  if (m[2] !== undefined && host !== '' && isIP(host) === 0 && (/^[\d.]+$/.test(host) || !HOST_NAME.test(host))) {
    throw bad(`${JSON.stringify(host)} is neither an IP address nor a host name`);
  }
  return { kind: 'tcp', flag, text, host, port: Number(portText) };
}
