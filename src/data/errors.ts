// Problems with input files. Each names the file and the reason, and says what to do; the data
// layer collects them (skip-and-report by default) or throws the first one (strict mode).
export class DataError extends Error {
  constructor(readonly file: string, readonly reason: string, readonly hint = '') {
    super(`${file}: ${reason}${hint ? ` (${hint})` : ''}`);
    this.name = 'DataError';
  }
}

export interface Problem { file: string; reason: string }

/** Collects bad files: in strict mode the first one throws, otherwise they are kept for the report. */
export class ProblemLog {
  readonly problems: Problem[] = [];
  constructor(readonly strict = false) {}

  add(err: unknown, file: string): void {
    const e = err instanceof DataError ? err : new DataError(file, (err as Error)?.message ?? String(err));
    if (this.strict) throw e;
    this.problems.push({ file: e.file, reason: e.reason });
  }
}
