// SIGINT / SIGTERM / SIGHUP → an AbortSignal, for the commands that train (`train`, `demo`): the loop
// finishes its step, saves a checkpoint and returns `stopped: 'signal'`; the command then exits with
// the shell's code for that signal. One copy, so every command stops the same way.
import { constants } from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof SIGNALS)[number];

/** A second signal within this window is the same request delivered twice (a terminal's Ctrl-C reaches
 *  both bin/synthset.js, which forwards it, and the child): only a later one means "quit at once". */
export const REPEAT_WINDOW_MS = 1500;

export interface SignalStop {
  /** Aborted on the first signal. */
  signal: AbortSignal;
  /** The first signal received, or null. */
  received(): StopSignal | null;
  /** 128 + the signal's number (130, 143, 129), as a shell reports a process killed by it. */
  exitCode(): number;
  /** Removes the handlers (in a finally). */
  dispose(): void;
}

export function exitCodeOf(sig: StopSignal): number {
  return 128 + constants.signals[sig];
}

/** Installs the handlers; `what` completes the note "finishing the current step and …". */
export function stopOnSignals(what = 'saving a checkpoint',
  write: (line: string) => void = (l) => process.stderr.write(l),
  quit: (code: number) => void = (c) => process.exit(c), now: () => number = Date.now): SignalStop {
  const controller = new AbortController();
  let first: StopSignal | null = null;
  let at = 0;
  const handlers = new Map<StopSignal, () => void>();
  for (const sig of SIGNALS) {
    const h = () => {
      if (!first) {
        first = sig;
        at = now();
        write(`\nsynthset: ${sig}: finishing the current step and ${what} (again to quit at once)\n`);
        controller.abort();
      } else if (now() - at > REPEAT_WINDOW_MS) {
        write(`synthset: ${sig} again: quitting without saving\n`);
        quit(exitCodeOf(sig));
      }
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  return {
    signal: controller.signal,
    received: () => first,
    exitCode: () => (first ? exitCodeOf(first) : 0),
    dispose: () => {
      for (const [sig, h] of handlers) process.removeListener(sig, h);
    },
  };
}
