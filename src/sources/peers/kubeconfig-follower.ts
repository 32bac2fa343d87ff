/**
 * Keeps a source running on the credentials of a kubeconfig file that is
 * rotated on disk. Peer tokens are short-lived (TokenRequest, in a mounted
 * Secret), so a watch that kept the credentials it started with would stop
 * working within the hour.
 *
 * The file is re-read every few seconds; when its text changes, a source is
 * made from it, the old one stopped and the new one started. Stopping a
 * source never clears its sink (and two watches never feed one sink at once),
 * so the store keeps serving what it holds until the new listing replaces it. A file
 * that cannot be read, or a new one that cannot be used, keeps the source in
 * use (with a warning): a half-written rotation must not cut a peer off.
 */
import { readFile } from 'node:fs/promises';
import { describeError } from '../../kubernetes/errors.js';
import type { Logger } from '../../logger.js';

export interface FollowedSource {
  stop(): Promise<void>;
}

export interface KubeconfigFollowerOptions<S extends FollowedSource> {
  path: string;
  /** Makes a source from the file as it is now; throws if the file is unusable. */
  make: () => S;
  /** Starts a source made by `make`. */
  start: (source: S) => Promise<void>;
  /** What is watched, for the log line on a change ("DNSEndpoints", "Services and Ingresses"). */
  what: string;
  logger: Logger;
  /** How often the file is checked. Default 5 s. */
  checkMs?: number;
}

export class KubeconfigFollower<S extends FollowedSource> {
  private current: S | undefined;
  private text = '';
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private stopped = false;
  /** Times the file was re-read after a change and a new source started. */
  reloads = 0;

  constructor(private readonly options: KubeconfigFollowerOptions<S>) {}

  get source(): S | undefined {
    return this.current;
  }

  /** Throws when the file is unreadable or unusable at start: a configuration error, not an outage. */
  async start(): Promise<void> {
    this.text = await readFile(this.options.path, 'utf8');
    this.current = this.options.make();
    await this.options.start(this.current);
    this.timer = setInterval(() => void this.check(), this.options.checkMs ?? 5_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.reloading;
    await this.current?.stop();
  }

  /** Re-reads the file now; resolves once a change (if any) is in effect. */
  async check(): Promise<void> {
    if (this.stopped || this.reloading) return this.reloading;
    this.reloading = this.reload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async reload(): Promise<void> {
    const { path, logger } = this.options;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      logger.warn('peer kubeconfig unreadable; keeping the credentials in use', { file: path, error: describeError(err) });
      return;
    }
    if (text === this.text || this.stopped) return;
    let next: S;
    try {
      next = this.options.make();
    } catch (err) {
      logger.warn('peer kubeconfig changed but is unusable; keeping the credentials in use', { file: path, error: describeError(err) });
      return;
    }
    this.text = text;
    const old = this.current;
    this.current = next;
    this.reloads++;
    logger.info(`peer kubeconfig changed; watching ${this.options.what} with the new credentials`, { file: path });
    await old?.stop();
    if (!this.stopped) await this.options.start(next);
  }
}
