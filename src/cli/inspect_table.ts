// The human-readable form of an inspect report. Paths are shown relative to the inspected folder
// to keep lines short; the JSON report keeps them as given.
import { relative } from 'node:path';
import type { InspectReport } from '../data/inspect.js';

/** Longer lists are cut here in the table (the JSON report has them all). */
const SHOW = 10;

function table(head: [string, string], rows: [string, string | number][]): string[] {
  const w = Math.max(head[0].length, ...rows.map((r) => r[0].length));
  const v = Math.max(head[1].length, ...rows.map((r) => String(r[1]).length));
  return [`  ${head[0].padEnd(w)}  ${head[1].padStart(v)}`, ...rows.map(([k, n]) => `  ${k.padEnd(w)}  ${String(n).padStart(v)}`)];
}

function more(total: number, shown = SHOW): string[] {
  return total > shown ? [`  … and ${total - shown} more (see --json)`] : [];
}

export function inspectTable(r: InspectReport): string {
  const rel = (f: string) => {
    const p = relative(r.dir, f);
    return p && !p.startsWith('..') ? p : f;
  };
  const out: string[] = [];
  const layout = r.layout === 'imagefolder' ? `${Object.keys(r.classes).length} class folders` : 'flat folder, no classes';
  out.push(`${r.dir}: ${r.images} readable image(s) of ${r.files} file(s), ${layout}`);

  if (r.layout === 'imagefolder') {
    out.push('', ...table(['class', 'images'], Object.entries(r.classes)));
  }
  const sizes = Object.entries(r.sizes);
  if (sizes.length > 0) {
    out.push('', ...table(['size', 'images'], sizes.slice(0, SHOW)), ...more(sizes.length));
    out.push(`  formats: ${Object.entries(r.formats).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }

  out.push('', `exact duplicates: ${r.exactDuplicates.length === 0 ? 'none' : `${r.exactDuplicates.length} group(s)`}`);
  for (const g of r.exactDuplicates.slice(0, SHOW)) out.push(`  ${g.map(rel).join(' = ')}`);
  out.push(...more(r.exactDuplicates.length));

  out.push(`near duplicates (dHash within ${r.threshold} bits): ${r.nearDuplicates.length === 0 ? 'none' : `${r.nearDuplicates.length} group(s)`}`);
  for (const g of r.nearDuplicates.slice(0, SHOW)) out.push(`  ${g.files.map(rel).join(' ~ ')}  (up to ${g.maxDistance} bits)`);
  out.push(...more(r.nearDuplicates.length));

  const s = r.crossSplit;
  out.push(`train/holdout split: ${s.train} train, ${s.holdout} holdout; ${s.leaks === 0 ? 'no near duplicates across it' : `${s.leaks} near-duplicate pair(s) across it`}`);
  for (const p of s.pairs.slice(0, SHOW)) out.push(`  ${rel(p.train)} (train) ~ ${rel(p.holdout)} (holdout), ${p.distance} bits`);
  out.push(...more(s.leaks));

  out.push('', `problems: ${r.problems.length === 0 ? 'none' : `${r.problems.length} skipped`}`);
  for (const p of r.problems.slice(0, 5 * SHOW)) out.push(`  ${rel(p.file)}: ${p.reason}`);
  out.push(...more(r.problems.length, 5 * SHOW));
  if (r.warnings.length > 0) out.push('', 'warnings:', ...r.warnings.map((w) => `  ${w}`));
  return out.join('\n');
}
