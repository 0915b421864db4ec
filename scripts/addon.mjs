// Where the native addon is built, and its own view of the CPU, read in a child process: loading
// it here would tie this script's process to one ONEDNN_MAX_CPU_ISA for good.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ADDON = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'build', 'Release', 'synthset_onednn.node');

/** The addon's info() ({ onednn, threads, isa, bf16Supported, bf16Enabled }) under `env`. Throws when it cannot load. */
export function addonInfo(env = process.env) {
  return JSON.parse(execFileSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(ADDON)}).info()))`], { encoding: 'utf8', env }));
}
