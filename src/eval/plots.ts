// Pictures for reports: a confusion matrix as SVG (sharp turns it into PNG; report.html inlines it)
// and line charts of training curves rendered by vega-lite to static SVG, so the HTML report needs
// no script and opens offline.
import { escapeHtml as esc } from '../util/text.js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';


/** Rows = true class, columns = predicted; cells shaded by the share of their row. */
export function confusionSvg(m: number[][], classes: string[], title: string): string {
  const k = classes.length, cell = 36, left = 110, top = 90;
  // Room above for the 45° column labels, and to the right for the last one's overhang.
  const w = left + k * cell + 60, h = top + k * cell + 30;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">`,
    `<rect width="${w}" height="${h}" fill="white"/>`, `<text x="4" y="14" font-size="12">${esc(title)}</text>`,
    `<text x="${left}" y="30">predicted →</text>`];
  for (let i = 0; i < k; i++) {
    const n = m[i].reduce((a, b) => a + b, 0) || 1;
    parts.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(classes[i].slice(0, 14))}</text>`);
    parts.push(`<text transform="translate(${left + i * cell + cell / 2 + 4},${top - 4}) rotate(-45)">${esc(classes[i].slice(0, 10))}</text>`);
    for (let j = 0; j < k; j++) {
      const share = m[i][j] / n;
      const shade = Math.round(255 * (1 - share));
      parts.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell - 1}" height="${cell - 1}" fill="rgb(${shade},${shade},255)"/>`);
      parts.push(`<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" fill="${share > 0.5 ? 'white' : 'black'}">${m[i][j]}</text>`);
    }
  }
  parts.push(`<text x="4" y="${h - 8}">rows: true class; cell colour: share of the row</text></svg>`);
  return parts.join('');
}

/** Line chart of `series` (x = step) as SVG. */
export async function lineChartSvg(rows: Record<string, number>[], x: string, series: string[], title: string, width = 520, height = 220): Promise<string> {
  const values = rows.flatMap((r) => series.filter((s) => Number.isFinite(r[s])).map((s) => ({ [x]: r[x], value: r[s], series: s })));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title, width, height, data: { values },
    mark: { type: 'line', strokeWidth: 1.2 },
    encoding: {
      x: { field: x, type: 'quantitative' }, y: { field: 'value', type: 'quantitative', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
  return toSvg(spec);
}

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Histogram bars (precomputed edges/counts per group) as SVG. */
export async function histogramSvg(groups: Record<string, { edges: number[]; counts: number[] }>, title: string, width = 520, height = 220): Promise<string> {
  const values = Object.entries(groups).flatMap(([g, h]) => h.counts.map((c, i) => ({ group: g, lo: h.edges[i], hi: h.edges[i + 1], count: c })));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title, width, height, data: { values },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.2 },
    encoding: {
      x: { field: 'lo', type: 'quantitative', title: 'score' }, y: { field: 'count', type: 'quantitative' },
      color: { field: 'group', type: 'nominal', title: null },
    },
  };
  return toSvg(spec);
}
