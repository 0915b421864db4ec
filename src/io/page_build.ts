// esbuild bundles for the browser: the bundle page's script (custom layers + page), with tfjs left
// to the page's global `tf` (TF.js's own browser build, copied into the bundle) so layers register
// with the same tfjs that loads the model. Any node:* import in the graph is an error.
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const TF_GLOBAL = 'synthset-tf-global';
export const NODE_BUILTIN = /^(node:.*|fs|path|os|crypto|child_process|module|url|worker_threads|zlib|stream|util|events|buffer)(\/.*)?$/;

const plugins: esbuild.Plugin[] = [{
  name: 'synthset-browser',
  setup(b) {
    b.onResolve({ filter: /^@tensorflow\/tfjs(-core|-layers)?$/ }, (a) => ({ path: a.path, namespace: TF_GLOBAL }));
    b.onLoad({ filter: /.*/, namespace: TF_GLOBAL }, () => ({ contents: 'module.exports = globalThis.tf;', loader: 'js' }));
    b.onResolve({ filter: NODE_BUILTIN }, (a) => ({
      errors: [{ text: `"${a.path}" (imported by ${a.importer}) needs Node: browser code and custom layers must not import it` }],
    }));
  },
}];

/** Bundles `entry` for the browser; throws with esbuild's messages on a Node import. */
export async function browserBundle(entry: string, minify = true): Promise<string> {
  const r = await esbuild.build({
    entryPoints: [entry], bundle: true, platform: 'browser', format: 'iife', target: 'es2020', write: false,
    minify, logLevel: 'silent', plugins, legalComments: 'none',
  });
  return r.outputFiles[0].text;
}

export const PAGE_ENTRY = fileURLToPath(new URL('./page/page.ts', import.meta.url));
export const LAYERS_ENTRY = fileURLToPath(new URL('../layers/index.ts', import.meta.url));
