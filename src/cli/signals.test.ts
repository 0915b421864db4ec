import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exitCodeOf, REPEAT_WINDOW_MS, stopOnSignals } from './signals.js';

// process.emit runs the handlers without delivering a real signal to the test runner.
const emit = (sig: string) => (process.emit as (e: string) => boolean)(sig);

test('the first signal aborts and sets the shell exit code; a duplicate within the window is ignored; a later one quits', () => {
  let t = 1000;
  const quits: number[] = [];
  const lines: string[] = [];
  const stop = stopOnSignals('saving', (l) => lines.push(l), (c) => quits.push(c), () => t);
  try {
    assert.equal(stop.signal.aborted, false);
    assert.equal(stop.exitCode(), 0);
    emit('SIGTERM');
    assert.equal(stop.signal.aborted, true);
    assert.equal(stop.received(), 'SIGTERM');
    assert.equal(stop.exitCode(), 143);
    assert.match(lines[0], /SIGTERM: finishing the current step and saving/);
    t += REPEAT_WINDOW_MS / 2;
    emit('SIGINT'); // the terminal's copy and the wrapper's forwarded copy of one Ctrl-C
    assert.deepEqual(quits, []);
    t += REPEAT_WINDOW_MS;
    emit('SIGINT');
    assert.deepEqual(quits, [130]);
  } finally {
    stop.dispose();
  }
  assert.equal(process.listenerCount('SIGHUP'), 0, 'dispose removes every handler');
  assert.equal(process.listenerCount('SIGTERM'), 0);
});

test('exit codes are 128 + the signal number', () => {
  assert.deepEqual([exitCodeOf('SIGHUP'), exitCodeOf('SIGINT'), exitCodeOf('SIGTERM')], [129, 130, 143]);
});
