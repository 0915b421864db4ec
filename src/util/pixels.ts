// Browser-safe: shared by Node (data, io) and the bundle's page.

/** [-1, 1] floats to 8-bit pixels, the release's one mapping (round((v + 1) * 127.5), clamped). */
export function toUint8(v: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.max(0, Math.min(255, Math.round((v[i] + 1) * 127.5)));
  return out;
}
