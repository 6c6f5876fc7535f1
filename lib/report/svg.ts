/** A {@link Canvas} that writes SVG elements: the vector twin of the PNG raster. */
import type { Anchor, Canvas } from './canvas';

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const f = (v: number): string => String(Math.round(v * 10) / 10);

/** Collects the drawing as SVG; {@link toSvg} returns the document. */
export class SvgCanvas implements Canvas {
  readonly #parts: string[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
    background = '#ffffff',
  ) {
    this.rect(0, 0, width, height, background);
  }

  rect(x: number, y: number, w: number, h: number, color: string): void {
    this.#parts.push(`<rect x="${f(x)}" y="${f(y)}" width="${f(w)}" height="${f(h)}" fill="${color}"/>`);
  }

  line(points: ReadonlyArray<readonly [number, number]>, color: string, width = 1): void {
    if (points.length < 2) return;
    this.#parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="${width}" stroke-linejoin="round" points="${points.map(([x, y]) => `${f(x)},${f(y)}`).join(' ')}"/>`,
    );
  }

  dot(x: number, y: number, r: number, color: string): void {
    this.#parts.push(`<circle cx="${f(x)}" cy="${f(y)}" r="${r}" fill="${color}"/>`);
  }

  text(x: number, y: number, s: string, opts: { color?: string; size?: number; anchor?: Anchor } = {}): void {
    const size = (opts.size ?? 8) * 1.35; // the bitmap font's cap height is 7/8 of its size; a vector font's about 0.7
    this.#parts.push(
      `<text x="${f(x)}" y="${f(y)}" font-size="${f(size)}" text-anchor="${opts.anchor ?? 'start'}" fill="${opts.color ?? '#111111'}">${escape(s)}</text>`,
    );
  }

  /** The SVG document. */
  toSvg(): string {
    return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${this.width} ${this.height}" width="${this.width}" height="${this.height}" font-family="system-ui, sans-serif">\n${this.#parts.join('\n')}\n</svg>`;
  }
}
