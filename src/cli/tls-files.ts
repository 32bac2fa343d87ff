/**
 * The PEM files behind --tls-listen, checked before they are used: readable,
 * a certificate, a private key that belongs to it, a CA bundle, and accepted
 * by OpenSSL as one secure context. Handing whatever was read to the server
 * would make every handshake fail, with nothing logged, the moment a rotation
 * left a half-written or mismatched file; this provider keeps the last good
 * files instead, and says why it refused the new ones.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { Logger } from '../logger.js';
import type { TlsMaterial, TlsMaterialSource } from '../server/grpc-server.js';

export interface TlsFilePaths {
  cert: string;
  key: string;
  clientCa: string;
}

/** A TLS file that cannot be used, with the flag that named it. */
export class TlsFileError extends Error {
  constructor(readonly flag: string, readonly path: string, readonly reason: string) {
    super(`--${flag} ${JSON.stringify(path)}: ${reason}`);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

async function read(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'a folder, not a file' : e.message;
    throw new TlsFileError(flag, path, `cannot read (${e.code ?? 'error'}): ${why}`);
  }
}

function certificates(flag: string, path: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new TlsFileError(flag, path, 'no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)');
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new TlsFileError(flag, path, `certificate ${i + 1} does not parse: ${(err as Error).message}`);
    }
  });
}

/** Reads the three files and checks them; throws a TlsFileError naming the first bad one. */
export async function readTlsFiles(paths: TlsFilePaths): Promise<TlsMaterial> {
  const [cert, key, ca] = [await read('tls-cert', paths.cert), await read('tls-key', paths.key), await read('tls-client-ca', paths.clientCa)];
  const leaf = certificates('tls-cert', paths.cert, cert)[0] as X509Certificate;
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new TlsFileError('tls-key', paths.key, `no usable PEM private key in it: ${(err as Error).message}`);
  }
  if (!leaf.checkPrivateKey(privateKey)) throw new TlsFileError('tls-key', paths.key, `the key does not match the certificate in --tls-cert ${JSON.stringify(paths.cert)}`);
  certificates('tls-client-ca', paths.clientCa, ca);
  try {
    // What the server will do with them; catches what the checks above do not, e.g. a key type OpenSSL refuses.
    createSecureContext({ cert, key, ca });
  } catch (err) {
    throw new TlsFileError('tls-cert', paths.cert, `OpenSSL refuses the certificate, key and CA together: ${(err as Error).message}`);
  }
  return { cert, key, ca };
}

export type ReloadResult = 'changed' | 'unchanged' | 'failed';

export interface TlsFileProviderOptions {
  /** How often the files are re-read, so a certificate rotated by cert-manager needs no restart. */
  intervalMs: number;
  logger: Logger;
  /** Called once for every reload that refused the files, e.g. to count it. */
  onReloadFailure?: () => void;
}

export class TlsFileProvider implements TlsMaterialSource {
  private readonly listeners = new Set<(m: TlsMaterial) => void>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<ReloadResult> | undefined;

  private constructor(private readonly paths: TlsFilePaths, private material: TlsMaterial, private readonly opts: TlsFileProviderOptions) {}

  /** Checks the files once (throwing a TlsFileError if they are unusable) and re-reads them every intervalMs. */
  static async open(paths: TlsFilePaths, opts: TlsFileProviderOptions): Promise<TlsFileProvider> {
    const p = new TlsFileProvider(paths, await readTlsFiles(paths), opts);
    p.timer = setInterval(() => void p.reload(), opts.intervalMs);
    p.timer.unref();
    return p;
  }

  /** Re-reads the files now; the last good ones stay in use unless the new ones pass every check. */
  reload(): Promise<ReloadResult> {
    this.inFlight ??= this.reloadNow().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async reloadNow(): Promise<ReloadResult> {
    let next: TlsMaterial;
    try {
      next = await readTlsFiles(this.paths);
    } catch (err) {
      const e = err instanceof TlsFileError ? { flag: `--${err.flag}`, file: err.path, reason: err.reason } : { reason: (err as Error).message };
      this.opts.logger.error('TLS files not reloaded; the last good certificate keeps serving', e);
      this.opts.onReloadFailure?.();
      return 'failed';
    }
    const m = this.material;
    if (m.cert.equals(next.cert) && m.key.equals(next.key) && m.ca.equals(next.ca)) return 'unchanged';
    this.material = next;
    this.opts.logger.info('TLS files reloaded', { cert: this.paths.cert, notAfter: new X509Certificate(next.cert).validTo });
    for (const l of this.listeners) {
      // One listener's failure (a server refusing the context) must not keep the others from the new files.
      try {
        l(next);
      } catch (err) {
        this.opts.logger.error('a server did not take the reloaded TLS files; it keeps its last good certificate', { reason: (err as Error).message });
      }
    }
    return 'changed';
  }

  current(): TlsMaterial {
    return this.material;
  }

  onChange(listener: (m: TlsMaterial) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
