/**
 * QR decoding of camera frames: the browser's `BarcodeDetector` where it exists and reads QR
 * codes (Chrome on Android and macOS, Safari), else jsQR in a same-origin Web Worker
 * (`qr-worker.ts`; Linux Chromium and Firefox have no BarcodeDetector).
 */

export interface QrDecoder {
  /** The text of a QR code seen in the frame, or null. */
  decode(frame: ImageData): Promise<string | null>;
  close(): void;
}

interface DetectedBarcode {
  rawValue: string;
}
interface BarcodeDetectorLike {
  detect(source: ImageData): Promise<DetectedBarcode[]>;
}
interface BarcodeDetectorCtor {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats(): Promise<string[]>;
}

async function nativeDecoder(): Promise<QrDecoder | undefined> {
  const Ctor = (globalThis as { BarcodeDetector?: BarcodeDetectorCtor }).BarcodeDetector;
  if (!Ctor) return undefined;
  try {
    if (!(await Ctor.getSupportedFormats()).includes('qr_code')) return undefined;
    const detector = new Ctor({ formats: ['qr_code'] });
    return {
      async decode(frame) {
        const found = await detector.detect(frame);
        return found[0]?.rawValue ?? null;
      },
      close() {},
    };
  } catch {
    return undefined;
  }
}

function workerDecoder(): QrDecoder {
  const worker = new Worker(new URL('./qr-worker.ts', import.meta.url), { type: 'module' });
  let next = 0;
  const pending = new Map<number, (text: string | null) => void>();
  worker.onmessage = (e: MessageEvent<{ id: number; text: string | null }>) => {
    pending.get(e.data.id)?.(e.data.text);
    pending.delete(e.data.id);
  };
  const failAll = () => {
    for (const resolve of pending.values()) resolve(null);
    pending.clear();
  };
  worker.onerror = failAll;
  return {
    decode(frame) {
      const id = next++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        // The pixels move to the worker (no copy); the frame is not used again here.
        worker.postMessage({ id, width: frame.width, height: frame.height, data: frame.data }, [
          frame.data.buffer,
        ]);
      });
    },
    close() {
      worker.terminate();
      failAll();
    },
  };
}

export async function createQrDecoder(): Promise<QrDecoder> {
  return (await nativeDecoder()) ?? workerDecoder();
}
