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
 *
 * The young generation is the other part: building grows it to its maximum
 * (two semi-spaces of 16 MB, 32 MB of RSS at any size above some 10k
 * records) and V8 shrinks it only in a collection that finds allocation
 * slow over its last few seconds, which an idle server never runs. So a
 * minor collection (a few ms, the young generation is nearly empty by then)
 * follows several seconds after the full ones; if queries are allocating
 * fast, V8 keeps the space, as it should, and it grows back under load.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const MIN_INTERVAL_MS = 60_000;
const DELAY_MS = 1_000;
const SECOND_PASS_MS = 100;
/** V8 judges the allocation rate over about the last 5 s (GCTracer's throughput window). */
const YOUNG_PASS_MS = 6_000;

type Gc = (options?: { type?: 'major' | 'minor' }) => void;

/** The engine's gc(), or undefined where it cannot be had. */
function loadGc(): Gc | undefined {
  if (typeof globalThis.gc === 'function') return globalThis.gc as Gc;
  try {
    // Without --expose-gc on the command line: a context created after the flag is set gets gc().
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as Gc) : undefined;
  } catch {
    return undefined;
  }
}

export class HeapTrim {
  private readonly gc = loadGc();
  private last = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private young: NodeJS.Timeout | undefined;
  /** How many trims (two collections each) ran, for tests. */
  collections = 0;
  /** How many young-generation passes ran, for tests. */
  youngCollections = 0;

  get available(): boolean {
    return this.gc !== undefined;
  }

  /** Call after a full build; collects twice, a second later (unless that ran within the last minute), then the young generation once. */
  afterFullBuild(): void {
    if (!this.gc || this.timer) return;
    // This trim brings its own young pass.
    clearTimeout(this.young);
    this.young = undefined;
    const wait = Math.max(DELAY_MS, this.last + MIN_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.gc?.();
      this.timer = setTimeout(() => {
        this.last = Date.now();
        this.collections++;
        this.gc?.();
        this.timer = undefined;
        this.young = setTimeout(() => {
          this.young = undefined;
          this.youngCollections++;
          this.gc?.({ type: 'minor' });
        }, YOUNG_PASS_MS);
        this.young.unref();
      }, SECOND_PASS_MS);
      this.timer.unref();
    }, wait);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    clearTimeout(this.young);
    this.timer = undefined;
    this.young = undefined;
  }
}
