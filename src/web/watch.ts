// Follows a folder of runs: new metrics lines, new sample grids, new runs and state changes, as
// events. fs.watch makes updates immediate where the OS delivers them; a poll (stat only) covers
// filesystems where it does not (network shares, some containers), so an update is never later
// than one poll interval.
import { EventEmitter } from 'node:events';
import { closeSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { findRuns, parseMetrics, sampleSteps, summarize, toId, type RunSummary } from './runs.js';

export interface WatchEvents {
  metrics: [{ id: string; records: Record<string, number>[] }];
  /** metrics.jsonl shrank (a resume or rollback truncated it): reload the run. */
  reset: [{ id: string }];
  sample: [{ id: string; step: number }];
  runs: [RunSummary[]];
}

interface Tracked {
  dir: string;
  offset: number;
  ino: number;
  records: Record<string, number>[];
  lastSample: number;
  watchers: FSWatcher[];
  summaryKey: string;
}

export class RunWatcher extends EventEmitter<WatchEvents> {
  private runs = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | null = null;
  private ticks = 0;
  private pending = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;

  /** `fsWatch: false` leaves only the poll (what happens where the OS has no file events). */
  constructor(readonly root: string, private readonly pollMs = 1000, private readonly fsWatch = true) {
    super();
  }

  start(): void {
    this.scan();
    this.timer = setInterval(() => this.tick(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const t of this.runs.values()) for (const w of t.watchers) w.close();
    this.runs.clear();
  }

  /** Every known run's summary, most recently active first. */
  summaries(): RunSummary[] {
    return [...this.runs.values()].map((t) => summarize(this.root, t.dir, t.records)).sort((a, b) => b.updated - a.updated);
  }

  records(id: string): Record<string, number>[] | null {
    return this.runs.get(id)?.records ?? null;
  }

  dirOf(id: string): string | null {
    return this.runs.get(id)?.dir ?? null;
  }

  private scan(): void {
    const found = new Set<string>();
    for (const dir of findRuns(this.root)) {
      const id = toId(this.root, dir);
      found.add(id);
      if (!this.runs.has(id)) this.track(id, dir);
    }
    for (const [id, t] of this.runs) {
      if (!found.has(id)) {
        for (const w of t.watchers) w.close();
        this.runs.delete(id);
      }
    }
  }

  private track(id: string, dir: string): void {
    const t: Tracked = { dir, offset: 0, ino: 0, records: [], lastSample: sampleSteps(dir).at(-1) ?? -1, watchers: [], summaryKey: '' };
    this.runs.set(id, t);
    this.readMetrics(id, t, false);
    this.watchDirs(id, t);
  }

  private watchDirs(id: string, t: Tracked): void {
    if (!this.fsWatch) return;
    for (const d of [t.dir, join(t.dir, 'samples')]) {
      if (t.watchers.some((w) => (w as FSWatcher & { dir?: string }).dir === d)) continue;
      try {
        const w = watch(d, { persistent: false }, () => this.check(id)) as FSWatcher & { dir?: string };
        w.dir = d;
        w.on('error', () => w.close());
        t.watchers.push(w);
      } catch {
        // not there yet (samples/) or not watchable: the poll covers it
      }
    }
  }

  private tick(): void {
    if (++this.ticks % 3 === 0) this.scan();
    for (const id of this.runs.keys()) this.check(id);
  }

  /** Reads what is new in one run and emits it. */
  check(id: string): void {
    const t = this.runs.get(id);
    if (!t) return;
    this.readMetrics(id, t, true);
    const steps = sampleSteps(t.dir);
    const newest = steps.at(-1) ?? -1;
    if (newest !== t.lastSample) {
      t.lastSample = newest;
      if (newest >= 0) this.emit('sample', { id, step: newest });
    }
    if (this.fsWatch && t.watchers.length < 2) this.watchDirs(id, t);
    this.pending.add(id);
    // Summaries (state, ETA) go out at most every 500 ms, however busy the files are.
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      let changed = false;
      for (const pid of this.pending) {
        const r = this.runs.get(pid);
        if (!r) continue;
        const s = summarize(this.root, r.dir, r.records);
        const key = JSON.stringify({ ...s, etaSeconds: null, updated: 0 });
        if (key !== r.summaryKey) {
          r.summaryKey = key;
          changed = true;
        }
      }
      this.pending.clear();
      if (changed) this.emit('runs', this.summaries());
    }, 500);
  }

  private readMetrics(id: string, t: Tracked, emit: boolean): void {
    const file = join(t.dir, 'metrics.jsonl');
    let size: number, ino: number;
    try {
      ({ size, ino } = statSync(file));
    } catch {
      return;
    }
    // truncate() rewrites the file through a rename: a new inode means new content from byte 0.
    if (size < t.offset || (t.ino && ino !== t.ino)) {
      t.offset = 0;
      t.records = [];
      if (emit) this.emit('reset', { id });
    }
    t.ino = ino;
    if (size === t.offset) return;
    const buf = Buffer.alloc(size - t.offset);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buf, 0, buf.length, t.offset);
    } finally {
      closeSync(fd);
    }
    const end = buf.lastIndexOf(0x0a);
    if (end < 0) return;
    t.offset += end + 1;
    const records = parseMetrics(buf.subarray(0, end).toString('utf8'));
    t.records.push(...records);
    if (emit && records.length) this.emit('metrics', { id, records });
  }
}
