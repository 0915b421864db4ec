// Progress on stderr for long jobs. On a terminal: one line redrawn in place (bar, count, rate, ETA).
// Otherwise (logs, pipes, CI): a plain line when a stage ends and at most every 10 s, so logs stay
// short. Hand-written because the project may not add dependencies for this.

export interface ProgressEvent { stage?: string; done: number; total: number }

export interface Progress {
  update(e: ProgressEvent): void;
  /** Prints a line above the bar without garbling it. */
  log(line: string): void;
  /** Clears the bar (terminal) so whatever comes next starts on a clean line. */
  end(): void;
}

interface Stream { isTTY?: boolean; columns?: number; write(s: string): unknown }

const REDRAW_MS = 100;
const PLAIN_EVERY_MS = 10_000;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

function counts(e: ProgressEvent, elapsedS: number): string {
  // A stage reported only at its end has no measurable duration: show no rate rather than 0/s.
  const rate = elapsedS >= 0.05 ? e.done / elapsedS : 0;
  const pct = e.total > 0 ? Math.floor((100 * e.done) / e.total) : 100;
  const rateText = rate === 0 ? '-' : rate >= 10 ? rate.toFixed(0) : rate.toFixed(1);
  const time = e.done >= e.total ? `in ${formatDuration(elapsedS)}` : `ETA ${formatDuration(rate > 0 ? (e.total - e.done) / rate : NaN)}`;
  return `${e.done}/${e.total} ${pct}% ${rateText}/s ${time}`;
}

const title = (label: string, e: ProgressEvent) => (e.stage ? `${label} ${e.stage}` : label);

/** The plain (non-terminal) line; exported for tests. */
export const progressText = (label: string, e: ProgressEvent, elapsedS: number): string =>
  `${title(label, e)} ${counts(e, elapsedS)}`;

/** The terminal line: a bar between the title and the numbers when the width allows it. */
export function progressBar(label: string, e: ProgressEvent, elapsedS: number, columns = 80): string {
  const head = title(label, e);
  const tail = counts(e, elapsedS);
  const width = Math.max(10, columns - 1);
  const barWidth = Math.min(30, width - head.length - tail.length - 4);
  if (barWidth < 5 || e.total <= 0) return `${head} ${tail}`.slice(0, width);
  const filled = Math.round((barWidth * Math.min(e.done, e.total)) / e.total);
  return `${head} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${tail}`;
}

export function createProgress(label: string, stream: Stream = process.stderr, now: () => number = Date.now): Progress {
  const tty = !!stream.isTTY;
  let stage: string | undefined;
  let start = now();
  let lastWrite = 0;
  let drawn = false;
  let ended = false;
  let last: ProgressEvent | null = null;

  const elapsed = () => (now() - start) / 1000;
  const bar = (e: ProgressEvent) => progressBar(label, e, elapsed(), stream.columns || 80);
  const finishLine = () => {
    // Leave the last state of a stage on screen (terminal) or in the log (plain) once.
    if (!last) return;
    if (tty && drawn) stream.write(`\r\x1b[K${bar(last)}\n`);
    else if (!tty && !ended) stream.write(`${progressText(label, last, elapsed())}\n`);
    drawn = false;
    ended = true;
  };

  return {
    update(e) {
      if (last && e.stage !== stage) finishLine();
      if (!last || e.stage !== stage) {
        stage = e.stage;
        start = now();
        lastWrite = start;
        ended = false;
      }
      last = e;
      const finished = e.total > 0 && e.done >= e.total;
      const t = now();
      if (tty) {
        if (!finished && drawn && t - lastWrite < REDRAW_MS) return;
        stream.write(`\r\x1b[K${bar(e)}`);
        drawn = true;
        lastWrite = t;
      } else if (finished) {
        finishLine();
      } else if (t - lastWrite >= PLAIN_EVERY_MS) {
        stream.write(`${progressText(label, e, elapsed())}\n`);
        lastWrite = t;
      }
    },
    log(text) {
      const redraw = tty && drawn && last;
      if (tty && drawn) stream.write('\r\x1b[K');
      stream.write(`${text}\n`);
      if (redraw && last) stream.write(bar(last));
    },
    end() {
      if (tty && drawn) finishLine();
      drawn = false;
    },
  };
}

/** Runs `job` with a progress display, ended however the job ends. Quiet: no display, and `log`
 * lines still go to the stream. */
export async function withProgress<T>(label: string, quiet: boolean | undefined, job: (p: Progress) => Promise<T>, stream: Stream = process.stderr): Promise<T> {
  const p: Progress = quiet
    ? { update: () => undefined, log: (line) => void stream.write(`${line}\n`), end: () => undefined }
    : createProgress(label, stream);
  try {
    return await job(p);
  } finally {
    p.end();
  }
}
