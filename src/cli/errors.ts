// How failures reach the user: one readable line on stderr each, the stack only with --debug,
// because a stack trace around "this file is truncated" hides the one thing the user needs to read.

/** One line: newlines inside messages from libraries (sharp, TF.js) are folded. */
export function errorLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return `synthset: error: ${text.split('\n').map((s) => s.trim()).filter(Boolean).join(' ')}`;
}

export function skippedLine(p: { file: string; reason: string }): string {
  return `synthset: skipped ${p.file}: ${p.reason}`;
}

export function printError(err: unknown, debug: boolean, stream: { write(s: string): unknown } = process.stderr): void {
  stream.write(`${errorLine(err)}\n`);
  if (debug && err instanceof Error && err.stack) stream.write(`${err.stack}\n`);
}
