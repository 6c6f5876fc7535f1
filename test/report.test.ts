/**
 * The run report: the PNG encoder (chunks, CRCs, and pixels that decode back to the input, checked
 * with Node's own zlib.crc32 and inflate), the bitmap text (a glyph's pixels where the font says),
 * the report in both forms (PNG of the stated size, HTML with the SVG and the table), and axis maxima
 * that fit the data.
 */
import * as zlib from 'zlib';
import { crc32, encodePng } from '../lib/report/png';
import { niceMax } from '../lib/report/charts';
import { RasterCanvas } from '../lib/report/raster';
import { reportHtml, reportPng, type RunReport } from '../lib/report/report';

/** Splits a PNG into its chunks. */
function chunks(png: Buffer): Array<{ type: string; data: Buffer; crc: number }> {
  const out = [];
  for (let at = 8; at < png.length;) {
    const len = png.readUInt32BE(at);
    out.push({
      type: png.toString('latin1', at + 4, at + 8),
      data: png.subarray(at + 8, at + 8 + len),
      crc: png.readUInt32BE(at + 8 + len),
    });
    at += 12 + len;
  }
  return out;
}

/** The RGB pixels of a PNG written by encodePng (filter 0 on every row). */
function pixels(png: Buffer): { width: number; height: number; rgb: Buffer } {
  const cs = chunks(png);
  const ihdr = cs.find((c) => c.type === 'IHDR')!.data;
  const width = ihdr.readUInt32BE(0),
    height = ihdr.readUInt32BE(4);
  const raw = zlib.inflateSync(Buffer.concat(cs.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width * 3 + 1)]).toBe(0);
    raw.copy(rgb, y * width * 3, y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1));
  }
  return { width, height, rgb };
}

describe('PNG encoder', () => {
  test('signature, IHDR, IDAT, IEND with correct CRCs; the pixels decode back', () => {
    const w = 5,
      h = 3;
    const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);
    const png = encodePng(w, h, rgb);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const cs = chunks(png);
    expect(cs.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    for (const c of cs) expect(c.crc).toBe(zlib.crc32(Buffer.concat([Buffer.from(c.type, 'latin1'), c.data])));
    expect([...cs[0].data.subarray(8)]).toEqual([8, 2, 0, 0, 0]); // 8-bit RGB, deflate, filter 0, no interlace
    const back = pixels(png);
    expect([back.width, back.height]).toEqual([w, h]);
    expect([...back.rgb]).toEqual([...rgb]);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926); // the CRC-32 check value
    expect(() => encodePng(2, 2, new Uint8Array(3))).toThrow(/expected 12 RGB bytes/);
  });
});

describe('RasterCanvas', () => {
  test("text: the glyph's pixels, scaled, sit on the baseline", () => {
    const c = new RasterCanvas(20, 20);
    c.text(2, 12, 'I', { color: '#ff0000', size: 8 }); // 'I' is columns 00 41 7f 41 00: a bar in column 2
    const red = (x: number, y: number): boolean => c.rgb[(y * 20 + x) * 3] === 255 && c.rgb[(y * 20 + x) * 3 + 1] === 0;
    for (let row = 0; row < 7; row++) expect(red(2 + 2, 12 - 7 + row)).toBe(true);
    expect(red(2 + 2, 12)).toBe(false); // nothing on the descender row
    expect(red(2 + 1, 12 - 7)).toBe(true); // the serifs: row 0 of columns 1 and 3
    expect(red(2 + 1, 12 - 6)).toBe(false);
    const big = new RasterCanvas(20, 20);
    big.text(0, 16, 'I', { color: '#000000', size: 16 }); // scale 2: every font pixel is 2×2
    const dark = (x: number, y: number): boolean => big.rgb[(y * 20 + x) * 3] === 0;
    expect([dark(4, 2), dark(5, 2), dark(4, 3), dark(5, 3), dark(6, 4)]).toEqual([true, true, true, true, false]); // column 3, row 1 is off
    expect(() => c.rect(0, 0, 1, 1, 'red')).toThrow(/#rrggbb/);
  });
});

describe('run report', () => {
  const report: RunReport = {
    title: 'a test run',
    subtitle: 'nothing trained',
    curve: {
      xLabel: 'seconds',
      series: [
        {
          name: 'train',
          color: '#dc2626',
          points: [
            [0, 0],
            [10, 0.5],
            [20, 0.9],
          ],
        },
      ],
    },
    byDifficulty: {
      xLabel: 'blanks',
      bars: [
        { label: '10', value: 0.996, count: 250, meanSteps: 1.5 },
        { label: '50', value: 0.04, count: 250, meanSteps: 11.2 },
      ],
    },
  };

  test('the PNG is 1100×420 and not blank; the HTML has the SVG and the table', () => {
    const { width, height, rgb } = pixels(reportPng(report));
    expect([width, height]).toEqual([1100, 420]);
    const blue = rgb.findIndex((v, i) => i % 3 === 0 && v === 0x25 && rgb[i + 1] === 0x63 && rgb[i + 2] === 0xeb);
    expect(blue).toBeGreaterThan(0); // the bars are drawn
    const html = reportHtml(report);
    expect(html).toMatch(/<svg [^>]*viewBox="0 0 1100 420"/);
    expect(html).toContain('<tr><td>10</td><td>99.6%</td><td>250</td><td>1.5</td></tr>');
    expect(html).toContain('<tr><td>50</td><td>4.0%</td><td>250</td><td>11.2</td></tr>');
    expect(html).toContain('>99.6%</text>');
  });
});

describe('chart axes', () => {
  test('an axis maximum covers the data and leaves less than a quarter of the plot empty', () => {
    // 2,400 demo steps once got an axis to 5,000: half the learning curve's plot empty.
    expect(niceMax(2400)).toBe(2400);
    expect(niceMax(1)).toBe(1);
    for (let v = 0.013; v < 1e5; v *= 1.0371) {
      const m = niceMax(v);
      expect(m).toBeGreaterThanOrEqual(v * (1 - 1e-12));
      expect(m).toBeLessThan((4 / 3) * v * (1 + 1e-9));
    }
  });
});
