// The bundle's browser page: loads the generator next to it with the page's global TF.js, draws
// `per class` samples for a seed (one row per class; image i is the same as `synthset generate`'s
// image i) and saves the grid as a PNG. Bundled by page_build.ts; tfjs is the page's window.tf.
import * as tf from '@tensorflow/tfjs';
import '../../layers/index.js';
import { forward, latentInputs, toUint8 } from '../sampling.js';
import type { BundleManifest } from '../manifest.js';

interface PageState { ready: Promise<void>; drawn: number; bytes: Uint8Array | null; error: string | null }
const state: PageState = { ready: Promise.resolve(), drawn: 0, bytes: null, error: null };
(window as unknown as { synthset: PageState }).synthset = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function main() {
  const status = $('status');
  const manifest = (await (await fetch('manifest.json')).json()) as BundleManifest;
  const model = await tf.loadLayersModel('model.json');
  const { input, image } = manifest;
  if (input.kind !== 'latent') {
    status.textContent = `${manifest.family}: an image-to-image generator; translate a folder with synthset generate.`;
    return;
  }
  const spec = { zDim: input.zDim, conditional: input.conditional, classes: manifest.classes };
  const rows = input.conditional ? manifest.present : [-1];
  $('title').textContent = `${manifest.family} generator · ${image.size} px · ${input.conditional ? rows.map((c) => manifest.classes[c]).join(', ') : 'unconditional'}`;
  const canvas = $<HTMLCanvasElement>('grid');

  const draw = async () => {
    const seed = Number(($<HTMLInputElement>('seed')).value) >>> 0;
    const per = Math.max(1, Math.min(64, Math.floor(Number(($<HTMLInputElement>('per')).value) || 1)));
    const k = rows.length, n = per * k, px = image.size * image.size * image.channels;
    status.textContent = 'drawing…';
    await new Promise((r) => setTimeout(r, 0));
    const x = latentInputs(spec, seed, Array.from({ length: n }, (_, i) => i), manifest.present);
    const out = forward(tf, model, spec, x);
    const bytes = toUint8(await out.data());
    out.dispose();
    const s = image.size, pad = 2;
    canvas.width = per * (s + pad) + pad;
    canvas.height = k * (s + pad) + pad;
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    for (let i = 0; i < n; i++) {
      const img = ctx.createImageData(s, s);
      for (let p = 0; p < s * s; p++) {
        for (let c = 0; c < 3; c++) img.data[p * 4 + c] = bytes[i * px + p * image.channels + (image.channels === 3 ? c : 0)];
        img.data[p * 4 + 3] = 255;
      }
      ctx.putImageData(img, pad + Math.floor(i / k) * (s + pad), pad + (i % k) * (s + pad));
    }
    state.bytes = bytes;
    state.drawn++;
    status.textContent = `seed ${seed}: ${n} images (${per} per class) — images 0…${n - 1} of \`synthset generate --seed ${seed}\``;
  };
  $('draw').addEventListener('click', () => { draw().catch(fail); });
  $('save').addEventListener('click', () => {
    canvas.toBlob((blob) => {
      if (!blob) return;
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `synthset-grid-seed-${($<HTMLInputElement>('seed')).value}.png`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    }, 'image/png');
  });
  ($<HTMLButtonElement>('draw')).disabled = false;
  ($<HTMLButtonElement>('save')).disabled = false;
  status.textContent = `ready (TF.js ${tf.version.tfjs}, backend ${tf.getBackend()})`;
}

function fail(err: unknown) {
  state.error = String((err as Error)?.message ?? err);
  $('status').textContent = `error: ${state.error}`;
}

state.ready = main().catch(fail);
