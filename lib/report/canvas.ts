/**
 * The drawing surface charts are drawn on, with two implementations: SVG for the HTML report
 * and a raster that becomes a PNG. A chart is drawn once, against this interface, so the two
 * pictures cannot disagree.
 */

/** Where text sits relative to its x: its start, middle or end. */
export type Anchor = 'start' | 'middle' | 'end';

/** A drawing surface; coordinates in pixels from the top left, colours as '#rrggbb'. */
export interface Canvas {
  readonly width: number;
  readonly height: number;
  /** A filled rectangle. */
  rect(x: number, y: number, w: number, h: number, color: string): void;
  /** A polyline `width` pixels wide. */
  line(points: ReadonlyArray<readonly [number, number]>, color: string, width?: number): void;
  /** A filled dot. */
  dot(x: number, y: number, r: number, color: string): void;
  /** Text with its baseline's left, middle or right at (x, y); `size` is the text's height in pixels (about 8 per scale step). */
  text(x: number, y: number, s: string, opts?: { color?: string; size?: number; anchor?: Anchor }): void;
}
