/**
 * One full garbage collection after a full snapshot build, so the process
 * gives back what building it left behind.
 *
 * Parsing a large manifest folder or a first Kubernetes listing, and building
 * every name, leaves hundreds of MiB of garbage (at 100k records the heap
 * reaches about 900 MB, of which about 200 MB stays live). V8 collects old
 * space when allocation pushes it past its limit, and crdns answering
 * queries allocates little, so that garbage could stay resident for good:
 * the same 100k-record process stayed at 1,096 MiB RSS through 20,000
 * queries after it was ready, and was at 422 MiB in runs where a collection
 * happened to start after the build.
 * The first collection frees the garbage; V8 keeps the pages it had (about
 * 475 MB committed for 192 MB live at 100k records), and a second one, with
 * nothing left to free, gives them back (283 MB committed; RSS 357 MiB). At
 * 100k records they paused the thread for about 290 and 530 ms, so they run
 * a second after the build (the new snapshot is already serving), 100 ms
 * apart so queries waiting in between are answered, and at most once a
 * minute.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const MIN_INTERVAL_MS = 60_000;
const DELAY_MS = 1_000;
const SECOND_PASS_MS = 100;

/** The engine's gc(), or undefined where it cannot be had. */
function loadGc(): (() => void) | undefined {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  try {
    // Without --expose-gc on the command line: a context created after the flag is set gets gc().
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

export class HeapTrim {
  private readonly gc = loadGc();
  private last = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  /** How many trims (two collections each) ran, for tests. */
  collections = 0;

  get available(): boolean {
    return this.gc !== undefined;
  }

  /** Call after a full build; collects once, a second later, unless one ran within the last minute. */
  afterFullBuild(): void {
    if (!this.gc || this.timer) return;
    const wait = Math.max(DELAY_MS, this.last + MIN_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.gc?.();
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.last = Date.now();
        this.collections++;
        this.gc?.();
      }, SECOND_PASS_MS);
      this.timer.unref();
    }, wait);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
