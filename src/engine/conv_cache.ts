// The fastest oneDNN convolution implementation per shape is found by timing every candidate once
// (native/src/conv.cc). That costs a second or more per process on a GAN's few dozen shapes, so the
// choices are kept on disk for the next process. A choice only holds for the same CPU, thread
// count, oneDNN and ISA cap; those form the file's key. A file whose key differs, that does not
// parse or has the wrong shape is ignored and rewritten; the addon re-checks every entry too (the
// rebuilt primitive must be the implementation that was timed) before it skips the timing.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../util/atomic.js';
import { userCacheDir } from '../util/cache_dir.js';
import { ADDON_PATH, type NativeAddon } from './native.js';

/** Bumped when the meaning of a stored choice changes. */
const FORMAT = 1;

export type ConvChoices = Record<string, [number, number, string]>;

interface CacheFile { key: Record<string, unknown>; choices: ConvChoices }

let cpuText: string | undefined;
function cpuIdentity(): string {
  if (cpuText === undefined) {
    try {
      // Model and flags of the first CPU (the per-core lines such as MHz differ from read to read).
      const first = readFileSync('/proc/cpuinfo', 'utf8').split('\n\n')[0];
      cpuText = first.split('\n').filter((l) => /^(vendor_id|cpu family|model|model name|stepping|flags)\s*:/.test(l)).join('\n');
    } catch {
      cpuText = `${process.platform}-${process.arch}`;
    }
  }
  return cpuText;
}

/** What the stored choices depend on. */
export function convCacheKey(addon: NativeAddon): Record<string, unknown> {
  const info = addon.info();
  let build = '';
  try {
    const st = statSync(ADDON_PATH);
    build = `${st.size}-${st.mtimeMs}`;
  } catch {
    // a loaded addon always has its file; no key part is better than a throw here
  }
  return {
    format: FORMAT,
    cpu: createHash('sha256').update(cpuIdentity()).digest('hex').slice(0, 20),
    threads: info.threads,
    onednn: info.onednn,
    isa: info.isa,
    maxIsa: process.env.ONEDNN_MAX_CPU_ISA ?? process.env.DNNL_MAX_CPU_ISA ?? '',
    addon: build,
  };
}

const enabled = () => process.env.SYNTHSET_CONV_CACHE !== '0';

/** One file per key, so runs with and without an ISA cap do not overwrite each other's choices. */
export function convCacheFile(key: Record<string, unknown>): string {
  const id = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
  return join(userCacheDir(), 'engine', `conv-choices-${id}.json`);
}

function validChoices(v: unknown): v is ConvChoices {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  return Object.values(v).every((c) => Array.isArray(c) && c.length === 3 && Number.isInteger(c[0])
    && Number.isInteger(c[1]) && typeof c[2] === 'string');
}

/** The stored choices for this key, or null when there is no usable file. */
export function readConvChoices(key: Record<string, unknown>): ConvChoices | null {
  const file = convCacheFile(key);
  if (!existsSync(file)) return null;
  try {
    const f = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    if (JSON.stringify(f?.key) !== JSON.stringify(key) || !validChoices(f.choices)) return null;
    return f.choices;
  } catch {
    return null;
  }
}

let loadedFor: NativeAddon | undefined;

/** Hands the stored choices to the addon; returns how many it took. */
export function loadConvChoices(addon: NativeAddon): number {
  loadedFor = addon;
  if (!enabled()) return 0;
  const choices = readConvChoices(convCacheKey(addon));
  return choices ? addon.setConvChoices(choices) : 0;
}

/** Writes this process's choices, merged over the stored ones (another process may have added shapes). */
export function saveConvChoices(addon: NativeAddon): void {
  if (!enabled()) return;
  const key = convCacheKey(addon);
  const choices = { ...readConvChoices(key), ...addon.convChoices() };
  const file = convCacheFile(key);
  try {
    mkdirSync(join(file, '..'), { recursive: true });
    writeAtomic(file, JSON.stringify({ key, choices } satisfies CacheFile));
  } catch {
    // a read-only home only costs the next process the timing again
  }
}

let pending = false;

/** Called when the addon timed a new shape: saves once the current synchronous work is done. */
export function convChoiceMade(): void {
  if (pending || !loadedFor || !enabled()) return;
  pending = true;
  const addon = loadedFor;
  setImmediate(() => {
    pending = false;
    saveConvChoices(addon);
  });
}
