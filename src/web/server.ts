// The dashboard server: read-only HTTP over a folder of runs. It serves the page (bundled from
// src/web/page with esbuild when it starts, uPlot included; nothing from a CDN), a JSON API, one
// server-sent-event stream of what the watcher sees, and files under the folder, nothing else:
// traversal in any spelling and symlinks that leave the folder get 404.
import { createReadStream, readFileSync, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { extname, isAbsolute, join, resolve, sep } from 'node:path';
import * as esbuild from 'esbuild';
import { runDetail } from './runs.js';
import { RunWatcher } from './watch.js';

export interface ServeOptions {
  runs: string;
  port?: number;
  host?: string;
  /** Poll interval of the file watcher, ms. */
  pollMs?: number;
  /** false: poll only (tests the fallback). */
  fsWatch?: boolean;
}

export interface Dashboard {
  url: string;
  port: number;
  close(): Promise<void>;
}

export class ServeError extends Error {}

const TYPES: Record<string, string> = {
  '.png': 'image/png', '.gif': 'image/gif', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp',
  '.json': 'application/json', '.jsonl': 'text/plain; charset=utf-8', '.html': 'text/html; charset=utf-8', '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8', '.yaml': 'text/plain; charset=utf-8', '.bin': 'application/octet-stream', '.svg': 'image/svg+xml',
};

const PAGE_DIR = join(import.meta.dirname, 'page');
let assets: Promise<Record<string, { type: string; body: Buffer }>> | null = null;

/** The page, its script (bundled once per process) and styles. */
function pageAssets() {
  assets ??= (async () => {
    const built = await esbuild.build({
      entryPoints: [join(PAGE_DIR, 'app.ts')], bundle: true, write: false, format: 'esm', platform: 'browser',
      target: 'es2020', minify: !process.env.SYNTHSET_WEB_DEBUG, sourcemap: false, logLevel: 'silent',
    });
    const require = createRequire(import.meta.url);
    const uplotCss = readFileSync(join(require.resolve('uplot'), '..', 'uPlot.min.css'));
    return {
      '/': { type: 'text/html; charset=utf-8', body: readFileSync(join(PAGE_DIR, 'index.html')) },
      '/assets/app.js': { type: 'text/javascript; charset=utf-8', body: Buffer.from(built.outputFiles[0].contents) },
      '/assets/app.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(PAGE_DIR, 'app.css')) },
      '/assets/uplot.css': { type: 'text/css; charset=utf-8', body: uplotCss },
    };
  })();
  return assets;
}

/**
 * The real path of `/files/<rest>` inside `root`, or null. `rest` is the raw (still encoded) path:
 * encoded slashes and backslashes, dot segments, empty segments, NUL and absolute paths are refused
 * before anything touches the disk, and the real path (symlinks resolved) must stay inside root.
 */
export function resolveUnder(realRoot: string, rest: string): string | null {
  if (/%2f|%5c|\\/i.test(rest)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return null;
  }
  if (!decoded || decoded.includes('\0') || isAbsolute(decoded) || /^[a-z]:/i.test(decoded)) return null;
  if (decoded.split('/').some((s) => s === '' || s === '.' || s === '..')) return null;
  let real: string;
  try {
    real = realpathSync(join(realRoot, decoded));
  } catch {
    return null;
  }
  if (!real.startsWith(realRoot + sep)) return null;
  try {
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

const SECURITY = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...SECURITY });
  res.end(body);
}
const notFound = (res: ServerResponse) => send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
const json = (res: ServerResponse, v: unknown) => send(res, 200, 'application/json', JSON.stringify(v));

export async function serveDashboard(opts: ServeOptions): Promise<Dashboard> {
  const root = resolve(opts.runs);
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
    if (!statSync(realRoot).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new ServeError(`--runs ${opts.runs}: not a folder. Give the folder that holds your run dirs (e.g. --runs runs).`);
  }
  const host = opts.host ?? '127.0.0.1';
  const page = await pageAssets();
  const watcher = new RunWatcher(realRoot, opts.pollMs ?? 1000, opts.fsWatch ?? true);
  watcher.start();
  const clients = new Set<ServerResponse>();
  const broadcast = (event: string, data: unknown) => {
    const msg = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(msg);
  };
  watcher.on('metrics', (e) => broadcast('metrics', e));
  watcher.on('reset', (e) => broadcast('reset', e));
  watcher.on('sample', (e) => broadcast('sample', e));
  watcher.on('runs', (s) => broadcast('runs', s));
  const heartbeat = setInterval(() => {
    for (const c of clients) c.write(': keep-alive\n\n');
  }, 15_000);
  heartbeat.unref();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', ...SECURITY });
      res.end();
      return;
    }
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    const asset = page[path as keyof typeof page];
    if (asset) return send(res, 200, asset.type, asset.body);
    if (path === '/api/runs') return json(res, watcher.summaries());
    if (path === '/api/run') {
      const dir = watcher.dirOf(params.get('id') ?? '\0');
      if (!dir) return notFound(res);
      return json(res, runDetail(realRoot, dir, watcher.records(params.get('id')!) ?? undefined));
    }
    if (path === '/api/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', ...SECURITY });
      res.write(`retry: 1000\nevent: runs\ndata: ${JSON.stringify(watcher.summaries())}\n\n`);
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (path.startsWith('/files/')) {
      const file = resolveUnder(realRoot, path.slice('/files/'.length));
      if (!file) return notFound(res);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', 'Cache-Control': 'no-cache', ...SECURITY });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
      return;
    }
    notFound(res);
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      send(res, 500, 'text/plain; charset=utf-8', `${(err as Error).message}\n`);
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => fail(err.code === 'EADDRINUSE'
      ? new ServeError(`Port ${opts.port} on ${host} is in use: choose another with --port.`) : err));
    server.listen(opts.port ?? 0, host, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    close: async () => {
      watcher.stop();
      clearInterval(heartbeat);
      for (const c of clients) c.end();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

