/**
 * Decodes QR codes off the main thread with jsQR (pure JavaScript: no eval, no WebAssembly).
 * Bundled by Vite as a same-origin asset, so the page's `worker-src 'self'` allows it.
 * Message in: `{ id, width, height, data }` (RGBA pixels); out: `{ id, text }` (null if none).
 */
import jsQR from 'jsqr';

interface Frame {
  id: number;
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

self.onmessage = (event: MessageEvent<Frame>) => {
  const { id, width, height, data } = event.data;
  let text: string | null = null;
  try {
    text = jsQR(data, width, height, { inversionAttempts: 'attemptBoth' })?.data ?? null;
  } catch {
    text = null;
  }
  self.postMessage({ id, text });
};
