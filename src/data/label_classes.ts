// The classes of a label-map dataset: a labels file (`<index> <name>` per line, further columns
// ignored, as CMP facades' label_names.txt) or a palette file (`<index> <name> <colour>`) for maps
// saved as colour images; and the check that a map holds known classes only.
import { DataError } from './errors.js';

export interface LabelClass { index: number; name: string }

/** Reads a labels file: `<index> <name>` per line, further columns ignored; blank and `#` lines skipped. */
export function parseLabels(text: string, file: string): LabelClass[] {
  const out: LabelClass[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const [idx, name] = line.split(/\s+/);
    if (!/^\d+$/.test(idx) || !name || Number(idx) > 65535) {
      throw new Error(`${file} line ${i + 1}: expected "<index> <name>" (a class index from 0 to 65535, then a name), got "${line}"`);
    }
    const index = Number(idx);
    const twin = out.find((c) => c.index === index || c.name === name);
    if (twin) throw new Error(`${file} line ${i + 1}: class ${twin.index === index ? `index ${index}` : `name "${name}"`} given twice`);
    out.push({ index, name });
  });
  if (out.length === 0) throw new Error(`${file}: no classes (expected lines "<index> <name>")`);
  return out;
}

/** What a label-map dataset adds to a Dataset: its classes and their one-hot width. */
export interface LabelMapInfo {
  /** The classes as the labels (or palette) file lists them. */
  classes: LabelClass[];
  /** One-hot width: the largest class index + 1 (an index with no class is never a value). */
  width: number;
  /** Palette colours by class index, for colour maps. */
  colours: [number, number][] | null;
  classesFile: string;
}

export interface PaletteClass extends LabelClass { colour: [number, number, number] }

/**
 * Reads a palette file: `<index> <name> <colour>` per line, the colour as `#rrggbb` or `r g b`
 * (0..255); a colour map's pixel of that colour is that class.
 */
export function parsePalette(text: string, file: string): PaletteClass[] {
  const classes = parseLabels(text, file);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const out = classes.map((c, i): PaletteClass => {
    const rest = lines[i].split(/\s+/).slice(2);
    let rgb: number[] = [];
    if (rest.length >= 1 && /^#[0-9a-f]{6}$/i.test(rest[0])) rgb = [1, 3, 5].map((k) => parseInt(rest[0].slice(k, k + 2), 16));
    else if (rest.length >= 3 && rest.slice(0, 3).every((v) => /^\d+$/.test(v) && Number(v) <= 255)) rgb = rest.slice(0, 3).map(Number);
    if (rgb.length !== 3) throw new Error(`${file}: class ${c.index} (${c.name}) has no colour: write "<index> <name> #rrggbb" or "<index> <name> r g b"`);
    return { ...c, colour: rgb as [number, number, number] };
  });
  const seen = new Map<string, number>();
  for (const c of out) {
    const key = c.colour.join(',');
    const twin = seen.get(key);
    if (twin !== undefined) throw new Error(`${file}: classes ${twin} and ${c.index} have the same colour ${key}, so a pixel of it has no single class`);
    seen.set(key, c.index);
  }
  return out;
}

/** Throws a DataError naming the map and its stray values when it holds values that are not classes. */
export function checkClassValues(values: readonly number[], known: ReadonlySet<number>, file: string, classesFile: string): void {
  const stray = values.filter((v) => !known.has(v));
  if (!stray.length) return;
  const shown = stray.slice(0, 10).join(', ') + (stray.length > 10 ? `, … (${stray.length} values)` : '');
  throw new DataError(file, `label values ${shown} are not classes of ${classesFile} (it has ${[...known].sort((a, b) => a - b).join(', ')})`,
    'fix the map, or add the classes to the labels file');
}
