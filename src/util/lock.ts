// A cross-process lock file, for work that two processes must not do at once on one machine (two
// trainings building the same decoded cache would append to one partial file). The file holds the
// holder's pid; a lock whose holder is gone (killed, crashed) is stale and taken over, so a crash
// never leaves work blocked.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryTake(file: string): boolean {
  try {
    const fd = openSync(file, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  let holder = NaN;
  try {
    holder = Number(readFileSync(file, 'utf8'));
  } catch {
    return false; // released meanwhile: try again on the next poll
  }
  // A holder that has not written its pid yet reads as NaN: wait for it rather than steal.
  if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && !alive(holder)) rmSync(file, { force: true });
  return false;
}

/** Runs `job` holding the lock `file`, waiting (polling) while another live process holds it. */
export async function withFileLock<T>(file: string, job: () => Promise<T>, pollMs = 200): Promise<T> {
  while (!tryTake(file)) await new Promise((r) => setTimeout(r, pollMs));
  try {
    return await job();
  } finally {
    rmSync(file, { force: true });
  }
}
