/**
 * A fake camera for Chromium (`--use-file-for-fake-video-capture`): the QR code a page shows,
 * read from its SVG (`QrCode`: one `M{x} {y}h1v1h-1z` per dark module) and rasterised into a
 * Y4M file — a one-line text header and raw YUV 4:2:0 frames, grey only (U = V = 128).
 */
import { writeFileSync } from 'node:fs';
import type { Locator } from '@playwright/test';

export interface QrModules {
  /** Side in modules, quiet zone included. */
  size: number;
  dark: Set<string>;
}

export async function qrModulesOf(svg: Locator): Promise<QrModules> {
  const viewBox = (await svg.getAttribute('viewBox')) ?? '';
  const d = (await svg.locator('path').getAttribute('d')) ?? '';
  const size = Number(viewBox.split(/\s+/)[2]);
  const dark = new Set<string>();
  for (const m of d.matchAll(/M(\d+) (\d+)/g)) dark.add(`${m[1]},${m[2]}`);
  if (!(size > 0) || dark.size === 0) throw new Error('no QR code in that element');
  return { size, dark };
}

/** Writes `frames` identical frames of `width`×`height` with the code centred on white. */
export function writeQrY4m(
  path: string,
  qr: QrModules,
  { width = 640, height = 480, frames = 2 } = {},
): void {
  const scale = Math.floor((Math.min(width, height) * 0.9) / qr.size);
  const left = Math.floor((width - qr.size * scale) / 2);
  const top = Math.floor((height - qr.size * scale) / 2);
  const y = Buffer.alloc(width * height, 235);
  for (let py = 0; py < qr.size * scale; py++) {
    for (let px = 0; px < qr.size * scale; px++) {
      if (qr.dark.has(`${Math.floor(px / scale)},${Math.floor(py / scale)}`)) {
        y[(top + py) * width + left + px] = 16;
      }
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma]);
  writeFileSync(path, Buffer.concat([header, ...Array.from({ length: frames }, () => frame)]));
}
