/**
 * The report of a solver's training run, as a PNG (for terminals and READMEs) and a
 * self-contained HTML page (inline SVG and a table; no scripts, no network): the learning curve
 * on the left, held-out exact accuracy by difficulty on the right. Both pictures are drawn by the
 * same chart code (charts.ts) on the two canvases.
 */
import { writeFileAtomic } from '../atomic-write';
import type { Canvas } from './canvas';
import { barChart, lineChart, type Series } from './charts';
import { RasterCanvas } from './raster';
import { SvgCanvas } from './svg';

/** What the report shows. */
export interface RunReport {
  /** The heading. */
  title: string;
  /** A line under it: the model, the budget, the machine. */
  subtitle: string;
  /** The learning curve: series over `xLabel` (values 0..1 are drawn as percentages). */
  curve: { xLabel: string; series: Series[] };
  /** Held-out exact accuracy (0..1) per difficulty level. */
  byDifficulty: { xLabel: string; bars: Array<{ label: string; value: number; count: number; meanSteps: number }> };
}

const WIDTH = 1100,
  HEIGHT = 420;

function draw(c: Canvas, r: RunReport): void {
  c.text(24, 34, r.title, { size: 16 });
  c.text(24, 56, r.subtitle, { size: 8, color: '#6b7280' });
  lineChart(
    c,
    { x: 24, y: 76, w: 520, h: 330 },
    { title: 'Learning curve', xLabel: r.curve.xLabel, series: r.curve.series, percent: true, yMax: 1 },
  );
  barChart(
    c,
    { x: 568, y: 76, w: 510, h: 330 },
    { title: 'Held-out exact accuracy by difficulty', xLabel: r.byDifficulty.xLabel, bars: r.byDifficulty.bars, color: '#2563eb' },
  );
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The report as PNG bytes. */
export function reportPng(r: RunReport): Buffer {
  const c = new RasterCanvas(WIDTH, HEIGHT);
  draw(c, r);
  return c.toPng();
}

/** The report as an HTML page. */
export function reportHtml(r: RunReport): string {
  const c = new SvgCanvas(WIDTH, HEIGHT);
  draw(c, r);
  const rows = r.byDifficulty.bars
    .map(
      (b) =>
        `<tr><td>${escape(b.label)}</td><td>${(100 * b.value).toFixed(1)}%</td><td>${b.count}</td><td>${b.meanSteps.toFixed(1)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(r.title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#111}table{border-collapse:collapse;margin-top:1rem}td,th{padding:.3rem .8rem;border-bottom:1px solid #e5e7eb;text-align:right}svg{max-width:100%;height:auto}</style></head>
<body>
${c.toSvg()}
<table><thead><tr><th>${escape(r.byDifficulty.xLabel)}</th><th>exact accuracy</th><th>held-out puzzles</th><th>mean supervision steps</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

/** Writes `<base>.png` and `<base>.html`; returns their paths. */
export function writeRunReport(base: string, r: RunReport): { png: string; html: string } {
  const png = `${base}.png`,
    html = `${base}.html`;
  writeFileAtomic(png, reportPng(r));
  writeFileAtomic(html, reportHtml(r));
  return { png, html };
}
