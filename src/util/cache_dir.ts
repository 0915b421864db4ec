// The per-user cache folder shared by the data layer (decoded datasets) and the engine (kernel
// choices): SYNTHSET_CACHE_DIR, else ~/.cache/synthset. It lives here because both may import util.
import { homedir } from 'node:os';
import { join } from 'node:path';

export const userCacheDir = (): string => process.env.SYNTHSET_CACHE_DIR || join(homedir(), '.cache', 'synthset');
