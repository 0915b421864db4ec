// Colours for drawing class-index maps (sample grids, previews): the Pascal VOC colour map, whose
// colours come from the bits of the index, so any index has one and neighbouring indices differ.
// Pure: shared by the data layer, the models' sample grids and the browser.

/** The VOC colour of class `index`: bit k of each colour channel from bits 3j + {0, 1, 2} of the index. */
export function paletteColour(index: number): [number, number, number] {
  let r = 0, g = 0, b = 0, c = index;
  for (let j = 0; j < 8; j++) {
    r |= ((c >> 0) & 1) << (7 - j);
    g |= ((c >> 1) & 1) << (7 - j);
    b |= ((c >> 2) & 1) << (7 - j);
    c >>= 3;
  }
  return [r, g, b];
}

/** `k` colours as a flat [k * 3] list: `colours` where given, the VOC colour otherwise. */
export function paletteTable(k: number, colours: ReadonlyMap<number, readonly number[]> = new Map()): Uint8Array {
  const out = new Uint8Array(k * 3);
  for (let i = 0; i < k; i++) out.set(colours.get(i) ?? paletteColour(i), i * 3);
  return out;
}
