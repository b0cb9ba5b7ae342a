import { useEffect, useRef, useState } from 'react';
import { createQrDecoder, type QrDecoder } from '../lib/qr-decoder.ts';

/** What the user sees when the camera cannot be used (paste stays available beside it). */
export function cameraErrorMessage(err: unknown): string {
  const name = err instanceof DOMException || err instanceof Error ? err.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Camera access was denied. Allow the camera for this site in your browser’s settings, or paste the code instead.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found on this device. Paste the code instead.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera could not be started (another app may be using it). Paste the code instead.';
    default:
      return 'The camera could not be started. Paste the code instead.';
  }
}

interface PolicyLike {
  allowsFeature(feature: string): boolean;
}

/**
 * False when the page's Permissions-Policy turns the camera off (`camera=()`); then
 * getUserMedia fails as if the user had said no. Undefined where the browser cannot tell.
 */
export function cameraAllowedByPolicy(): boolean | undefined {
  const doc = document as { permissionsPolicy?: PolicyLike; featurePolicy?: PolicyLike };
  const policy = doc.permissionsPolicy ?? doc.featurePolicy;
  try {
    return policy ? policy.allowsFeature('camera') : undefined;
  } catch {
    return undefined;
  }
}

const SCAN_INTERVAL_MS = 150;
/** Frames are scaled down to at most this width before decoding. */
const MAX_FRAME_WIDTH = 800;

/**
 * The camera view of "Scan QR code": asks for the (rear-facing where there is one) camera,
 * decodes a frame every 150 ms, and hands each QR text to `onCode`, which says whether it was
 * the code wanted (scanning then stops). The camera is released when this unmounts.
 */
export function QrScanner({
  onCode,
  onClose,
  invalidHint = 'That QR code is not the one wanted here.',
  createDecoder = createQrDecoder,
}: {
  onCode: (text: string) => boolean;
  onClose: () => void;
  invalidHint?: string;
  createDecoder?: () => Promise<QrDecoder>;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const stopButton = useRef<HTMLButtonElement>(null);
  const [status, setStatus] = useState<'starting' | 'scanning' | 'error'>('starting');
  const [error, setError] = useState<string>();
  const [hint, setHint] = useState<string>();
  const onCodeRef = useRef(onCode);
  onCodeRef.current = onCode;

  useEffect(() => {
    let stopped = false;
    let stream: MediaStream | undefined;
    let decoder: QrDecoder | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const canvas = document.createElement('canvas');
    const release = () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      stream?.getTracks().forEach((t) => t.stop());
      stream = undefined;
      if (video.current) video.current.srcObject = null;
      decoder?.close();
      decoder = undefined;
    };
    const fail = (message: string) => {
      release();
      setError(message);
      setStatus('error');
    };

    const tick = async () => {
      timer = undefined;
      if (stopped) return;
      const v = video.current;
      if (v && decoder && v.readyState >= 2 && v.videoWidth > 0) {
        const scale = Math.min(1, MAX_FRAME_WIDTH / v.videoWidth);
        canvas.width = Math.round(v.videoWidth * scale);
        canvas.height = Math.round(v.videoHeight * scale);
        const ctx = canvas.getContext('2d', { willReadFrequently: true });
        if (ctx) {
          ctx.drawImage(v, 0, 0, canvas.width, canvas.height);
          const text = await decoder
            .decode(ctx.getImageData(0, 0, canvas.width, canvas.height))
            .catch(() => null);
          if (stopped) return;
          if (text !== null) {
            if (onCodeRef.current(text)) {
              release();
              return;
            }
            setHint(invalidHint);
          }
        }
      }
      timer = setTimeout(() => void tick(), SCAN_INTERVAL_MS);
    };

    const start = async () => {
      if (!navigator.mediaDevices?.getUserMedia) {
        fail('This browser cannot use a camera here. Paste the code instead.');
        return;
      }
      if (cameraAllowedByPolicy() === false) {
        fail('This site does not allow the camera to be used. Paste the code instead.');
        return;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: { ideal: 'environment' } },
          audio: false,
        });
      } catch (err) {
        if (!stopped) fail(cameraErrorMessage(err));
        return;
      }
      if (stopped) {
        stream.getTracks().forEach((t) => t.stop());
        return;
      }
      try {
        decoder = await createDecoder();
      } catch {
        if (!stopped) fail('QR codes cannot be read in this browser. Paste the code instead.');
        return;
      }
      if (stopped) {
        decoder.close();
        return;
      }
      const v = video.current;
      if (v) {
        try {
          v.srcObject = stream;
        } catch (err) {
          fail(cameraErrorMessage(err));
          return;
        }
        await v.play().catch(() => undefined);
        if (stopped) return;
      }
      setStatus('scanning');
      void tick();
    };
    void start();
    return release;
  }, [createDecoder, invalidHint]);

  useEffect(() => stopButton.current?.focus(), []);

  return (
    <div
      className="qr-scanner stack"
      role="group"
      aria-label="QR code scanner"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      {status !== 'error' && (
        <video
          ref={video}
          className="qr-scanner__video"
          muted
          playsInline
          aria-label="Camera view"
          data-testid="qr-scanner-video"
        />
      )}
      {status === 'starting' && (
        <p className="muted small" role="status">
          Starting the camera…
        </p>
      )}
      {status === 'scanning' && (
        <p className="muted small" role="status">
          {hint ?? 'Point the camera at the QR code on the new device.'}
        </p>
      )}
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <div className="row row--end">
        <button ref={stopButton} type="button" className="button" onClick={onClose}>
          {status === 'error' ? 'Close' : 'Stop camera'}
        </button>
      </div>
    </div>
  );
}
