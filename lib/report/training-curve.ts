/**
 * A self-contained HTML report of a training run: training loss per step and held-out exact
 * accuracy per evaluation, drawn as inline SVG (no scripts, no network, opens anywhere).
 */
import { writeFileAtomic } from '../atomic-write';
import type { TrainEvent } from '../trainer';

interface Point {
  x: number;
  y: number;
}

function polyline(points: Point[], xMax: number, yMax: number, w: number, h: number, color: string): string {
  if (points.length === 0) return '';
  const d = points.map((p) => `${((p.x / xMax) * w).toFixed(1)},${(h - (p.y / yMax) * h).toFixed(1)}`).join(' ');
  const dots = points.length < 40 ? points.map((p) => `<circle cx="${((p.x / xMax) * w).toFixed(1)}" cy="${(h - (p.y / yMax) * h).toFixed(1)}" r="3" fill="${color}"/>`).join('') : '';
  return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${d}"/>${dots}`;
}

function panel(title: string, points: Point[], xMax: number, yMax: number, color: string, yLabel: (v: number) => string): string {
  const w = 520, h = 220;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = h - f * h;
    return `<line x1="0" x2="${w}" y1="${y}" y2="${y}" stroke="#e5e7eb"/><text x="-8" y="${y + 4}" text-anchor="end">${yLabel(f * yMax)}</text>`;
  });
  const xTicks = [0, 0.5, 1].map((f) => `<text x="${f * w}" y="${h + 18}" text-anchor="middle">${Math.round(f * xMax)}</text>`);
  return `<figure><figcaption>${title}</figcaption><svg viewBox="-60 -10 ${w + 80} ${h + 52}" width="${w + 80}" height="${h + 52}" font-size="12" font-family="system-ui, sans-serif">
${ticks.join('')}${xTicks.join('')}<text x="${w / 2}" y="${h + 34}" text-anchor="middle">step</text>
${polyline(points, xMax, yMax, w, h, color)}</svg></figure>`;
}

/** Writes the report of `events` (as emitted by Trainer) to `file` (.html). */
export function writeTrainingCurve(file: string, events: readonly TrainEvent[], title = 'trm-native training run'): void {
  const steps = events.filter((e) => e.kind === 'step');
  const evals = events.filter((e) => e.kind === 'eval');
  const xMax = Math.max(1, ...events.map((e) => e.step));
  const loss = steps.map((e) => ({ x: e.step, y: e.metrics.lm_loss ?? 0 }));
  const exact = evals.map((e) => ({ x: e.step, y: e.metrics.exact_accuracy ?? 0 }));
  const lossMax = Math.max(1e-9, ...loss.map((p) => p.y));
  const last = evals[evals.length - 1];
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#111}figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.5rem}</style></head>
<body><h1>${title}</h1>
<p>${steps.length} logged steps${last ? `; last held-out exact accuracy <b>${(100 * last.metrics.exact_accuracy).toFixed(1)}%</b> at step ${last.step}` : ''}.</p>
${panel('Held-out exact accuracy (test split, every supervision step run)', exact, xMax, 1, '#2563eb', (v) => `${Math.round(v * 100)}%`)}
${panel('Training loss (lm_loss per global batch)', loss, xMax, lossMax, '#dc2626', (v) => v.toFixed(2))}
</body></html>
`;
  writeFileAtomic(file, html);
}
