/**
 * Two chart kinds drawn on any {@link Canvas}: a line chart (a learning curve: several series over
 * time) and a bar chart (accuracy by difficulty), each with axes, ticks, labels and a legend.
 */
import type { Canvas } from './canvas';

/** A box on the canvas. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** One line of a line chart. */
export interface Series {
  name: string;
  color: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** Draw a dot at every point (for sparse series such as evaluations). */
  dots?: boolean;
}

const INK = '#111111',
  MUTED = '#6b7280',
  GRID = '#e5e7eb';
const TEXT = 8,
  SMALL = 8,
  TITLE = 16;

/**
 * A "nice" axis maximum at least `v` and less than 4/3 of it, whose quarters (the axis has four
 * ticks) are round: 1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6 or 8 times a power of ten. (1, 2 or 5 alone
 * left up to 60% of a plot empty: 2,400 steps on an axis to 5,000.)
 */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10].map((m) => m * p).find((m) => m >= v * (1 - 1e-12)) as number;
}

function fmt(v: number, percent: boolean): string {
  if (percent) return `${Math.round(v * 100)}%`;
  return Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1);
}

function frame(c: Canvas, box: Box, title: string): Box {
  c.text(box.x, box.y + TITLE, title, { size: TITLE, color: INK });
  // Room for the title above, tick labels left and below.
  return { x: box.x + 48, y: box.y + TITLE + 18, w: box.w - 60, h: box.h - TITLE - 18 - 40 };
}

function yAxis(c: Canvas, plot: Box, yMax: number, percent: boolean): void {
  for (let k = 0; k <= 4; k++) {
    const y = plot.y + plot.h - (k / 4) * plot.h;
    c.line(
      [
        [plot.x, y],
        [plot.x + plot.w, y],
      ],
      GRID,
      1,
    );
    c.text(plot.x - 6, y + 4, fmt((k / 4) * yMax, percent), { size: SMALL, color: MUTED, anchor: 'end' });
  }
}

/** A line chart of `series` over x ∈ [0, xMax] in `box`; y as a percentage when `percent`. */
export function lineChart(
  c: Canvas,
  box: Box,
  opts: { title: string; xLabel: string; series: readonly Series[]; percent?: boolean; yMax?: number },
): void {
  const plot = frame(c, box, opts.title);
  const all = opts.series.flatMap((s) => s.points);
  const xMax = niceMax(Math.max(1e-9, ...all.map((p) => p[0])));
  const yMax = opts.yMax ?? niceMax(Math.max(1e-9, ...all.map((p) => p[1])));
  yAxis(c, plot, yMax, opts.percent ?? false);
  for (let k = 0; k <= 4; k++) {
    const x = plot.x + (k / 4) * plot.w;
    c.text(x, plot.y + plot.h + 14, fmt((k / 4) * xMax, false), { size: SMALL, color: MUTED, anchor: 'middle' });
  }
  c.text(plot.x + plot.w / 2, plot.y + plot.h + 30, opts.xLabel, { size: TEXT, color: MUTED, anchor: 'middle' });
  const at = (p: readonly [number, number]): [number, number] => [
    plot.x + (p[0] / xMax) * plot.w,
    plot.y + plot.h - (Math.min(p[1], yMax) / yMax) * plot.h,
  ];
  let legendX = plot.x + 4;
  for (const s of opts.series) {
    c.line(s.points.map(at), s.color, 2);
    if (s.dots) for (const p of s.points) c.dot(...at(p), 3, s.color);
    c.rect(legendX, plot.y - 12, 10, 4, s.color);
    c.text(legendX + 14, plot.y - 8, s.name, { size: SMALL, color: INK });
    legendX += 24 + s.name.length * 6;
  }
}

/** A bar chart of values in 0..1 (as percentages) with each bar's value written above it. */
export function barChart(
  c: Canvas,
  box: Box,
  opts: { title: string; xLabel: string; bars: ReadonlyArray<{ label: string; value: number }>; color: string },
): void {
  const plot = frame(c, box, opts.title);
  yAxis(c, plot, 1, true);
  const n = Math.max(1, opts.bars.length);
  const slot = plot.w / n;
  opts.bars.forEach((b, i) => {
    const h = Math.max(0, Math.min(1, b.value)) * plot.h;
    const x = plot.x + i * slot + slot * 0.18;
    c.rect(x, plot.y + plot.h - h, slot * 0.64, Math.max(1, h), opts.color);
    c.text(x + slot * 0.32, plot.y + plot.h - h - 5, `${(100 * b.value).toFixed(1)}%`, { size: TEXT, color: INK, anchor: 'middle' });
    c.text(x + slot * 0.32, plot.y + plot.h + 14, b.label, { size: SMALL, color: MUTED, anchor: 'middle' });
  });
  c.text(plot.x + plot.w / 2, plot.y + plot.h + 30, opts.xLabel, { size: TEXT, color: MUTED, anchor: 'middle' });
}
