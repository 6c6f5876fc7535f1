/**
 * A {@link Canvas} on an RGB pixel buffer, written out as PNG: rectangles, thick polylines, dots and
 * text in the 5×7 bitmap font scaled by whole pixels. No anti-aliasing: charts stay crisp at 1×.
 */
import type { Anchor, Canvas } from './canvas';
import { GLYPH_ADVANCE, glyphColumns } from './font';
import { encodePng } from './png';

function parseColor(color: string): [number, number, number] {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) throw new RangeError(`colour must be '#rrggbb', got ${JSON.stringify(color)}`);
  const v = parseInt(m[1], 16);
  return [v >> 16, (v >> 8) & 0xff, v & 0xff];
}

/** An RGB raster, white to start with. */
export class RasterCanvas implements Canvas {
  readonly rgb: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background = '#ffffff',
  ) {
    this.rgb = new Uint8Array(width * height * 3);
    this.rect(0, 0, width, height, background);
  }

  #fill(x0: number, y0: number, x1: number, y1: number, c: [number, number, number]): void {
    const xa = Math.max(0, Math.round(x0)),
      xb = Math.min(this.width, Math.round(x1));
    const ya = Math.max(0, Math.round(y0)),
      yb = Math.min(this.height, Math.round(y1));
    for (let y = ya; y < yb; y++) {
      for (let x = xa; x < xb; x++) {
        const i = (y * this.width + x) * 3;
        this.rgb[i] = c[0];
        this.rgb[i + 1] = c[1];
        this.rgb[i + 2] = c[2];
      }
    }
  }

  rect(x: number, y: number, w: number, h: number, color: string): void {
    this.#fill(x, y, x + w, y + h, parseColor(color));
  }

  line(points: ReadonlyArray<readonly [number, number]>, color: string, width = 1): void {
    const c = parseColor(color);
    const half = width / 2;
    for (let k = 1; k < points.length; k++) {
      const [xa, ya] = points[k - 1],
        [xb, yb] = points[k];
      const n = Math.max(1, Math.ceil(Math.max(Math.abs(xb - xa), Math.abs(yb - ya))));
      for (let s = 0; s <= n; s++) {
        const x = xa + ((xb - xa) * s) / n,
          y = ya + ((yb - ya) * s) / n;
        this.#fill(x - half, y - half, x + half, y + half, c);
      }
    }
  }

  dot(x: number, y: number, r: number, color: string): void {
    const c = parseColor(color);
    for (let dy = -r; dy <= r; dy++) {
      const dx = Math.sqrt(Math.max(0, r * r - dy * dy));
      this.#fill(x - dx, y + dy - 0.5, x + dx, y + dy + 0.5, c);
    }
  }

  text(x: number, y: number, s: string, opts: { color?: string; size?: number; anchor?: Anchor } = {}): void {
    const c = parseColor(opts.color ?? '#111111');
    const scale = Math.max(1, Math.round((opts.size ?? 8) / 8));
    const width = s.length * GLYPH_ADVANCE * scale - scale;
    const anchor = opts.anchor ?? 'start';
    const left = Math.round(anchor === 'start' ? x : anchor === 'middle' ? x - width / 2 : x - width);
    const top = Math.round(y) - 7 * scale; // rows 0..6 sit on the baseline, row 7 below it
    [...s].forEach((ch, i) => {
      glyphColumns(ch).forEach((bits, col) => {
        for (let row = 0; row < 8; row++) {
          if (bits & (1 << row)) {
            const px = left + (i * GLYPH_ADVANCE + col) * scale,
              py = top + row * scale;
            this.#fill(px, py, px + scale, py + scale, c);
          }
        }
      });
    });
  }

  /** The image as a PNG file. */
  toPng(): Buffer {
    return encodePng(this.width, this.height, this.rgb);
  }
}
