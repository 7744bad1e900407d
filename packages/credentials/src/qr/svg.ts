import type { QrMatrix } from './matrix.js';
import { imageOptions, type QrImageOptions } from './png.js';

/**
 * The matrix as SVG in module units (viewBox includes the quiet zone): a white background and one `<path>`
 * with a rectangle per horizontal run of dark modules, which is far smaller than one per module.
 * `crispEdges` stops anti-aliasing seams between adjacent runs.
 */
export const qrSvg = (matrix: QrMatrix, options?: QrImageOptions): string => {
  const { scale, margin } = imageOptions(options);
  const { size, modules } = matrix;
  const extent = size + 2 * margin;
  const runs: string[] = [];
  for (let r = 0; r < size; r++) {
    let c = 0;
    while (c < size) {
      if (modules[r * size + c] === 0) {
        c++;
        continue;
      }
      const start = c;
      while (c < size && modules[r * size + c] !== 0) c++;
      const length = c - start;
      runs.push(`M${margin + start} ${margin + r}h${length}v1h-${length}z`);
    }
  }
  const pixels = extent * scale;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${extent} ${extent}" width="${pixels}" ` +
    `height="${pixels}" shape-rendering="crispEdges">` +
    `<rect width="${extent}" height="${extent}" fill="#fff"/>` +
    `<path fill="#000" d="${runs.join('')}"/></svg>`
  );
};
