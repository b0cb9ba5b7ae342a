import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App.tsx';
import type { QrDecoder } from '../lib/qr-decoder.ts';
import { FakeModel } from '../model/fake-model.ts';
import { QrScanner } from './QrScanner.tsx';

const original = Object.getOwnPropertyDescriptor(navigator, 'mediaDevices');
function camera(getUserMedia: (() => Promise<MediaStream>) | undefined) {
  Object.defineProperty(navigator, 'mediaDevices', {
    configurable: true,
    value: getUserMedia ? { getUserMedia: vi.fn(getUserMedia) } : undefined,
  });
}
afterEach(() => {
  if (original) Object.defineProperty(navigator, 'mediaDevices', original);
  else delete (navigator as { mediaDevices?: unknown }).mediaDevices;
  delete (document as { featurePolicy?: unknown }).featurePolicy;
});

const fakeDecoder = (): Promise<QrDecoder> =>
  Promise.resolve({ decode: () => Promise.resolve(null), close: vi.fn() });

function scanner() {
  const onClose = vi.fn();
  const onCode = vi.fn(() => true);
  const view = render(<QrScanner onCode={onCode} onClose={onClose} createDecoder={fakeDecoder} />);
  return { onClose, onCode, ...view };
}

describe('QR scanner', () => {
  it('says when the browser has no camera API, and closes', async () => {
    camera(undefined);
    const { onClose } = scanner();
    expect((await screen.findByRole('alert')).textContent).toMatch(/cannot use a camera/);
    fireEvent.click(screen.getByRole('button', { name: 'Close' }));
    expect(onClose).toHaveBeenCalled();
  });

  it.each([
    ['NotAllowedError', /Camera access was denied/],
    ['NotFoundError', /No camera was found/],
    ['NotReadableError', /could not be started/],
  ])('explains %s', async (name, message) => {
    camera(() => Promise.reject(new DOMException('no', name)));
    scanner();
    expect((await screen.findByRole('alert')).textContent).toMatch(message);
    expect(screen.queryByTestId('qr-scanner-video')).toBeNull();
  });

  it('does not ask for the camera when the page’s policy turns it off', async () => {
    camera(() => Promise.reject(new Error('not expected')));
    Object.defineProperty(document, 'featurePolicy', {
      configurable: true,
      value: { allowsFeature: (f: string) => f !== 'camera' },
    });
    scanner();
    expect((await screen.findByRole('alert')).textContent).toMatch(/does not allow the camera/);
    expect(navigator.mediaDevices.getUserMedia).not.toHaveBeenCalled();
  });

  it('closes on Escape and stops the camera when it goes away', async () => {
    const stop = vi.fn();
    const stream = new MediaStream();
    stream.getTracks = () => [{ stop } as unknown as MediaStreamTrack];
    camera(() => Promise.resolve(stream));
    const { onClose, unmount } = scanner();
    expect(await screen.findByText(/Point the camera/)).toBeTruthy();
    expect(navigator.mediaDevices.getUserMedia).toHaveBeenCalledWith({
      video: { facingMode: { ideal: 'environment' } },
      audio: false,
    });
    const stopButton = screen.getByRole('button', { name: 'Stop camera' });
    expect(document.activeElement).toBe(stopButton);
    fireEvent.keyDown(stopButton, { key: 'Escape' });
    expect(onClose).toHaveBeenCalled();
    unmount();
    await waitFor(() => expect(stop).toHaveBeenCalled());
  });
});

describe('Devices → Scan QR code', () => {
  it('without a camera says so, keeps paste working and gives focus back', async () => {
    camera(() => Promise.reject(new DOMException('denied', 'NotAllowedError')));
    const model = new FakeModel('ready');
    render(<App model={model} />);
    fireEvent.click(screen.getByRole('button', { name: /Devices/ }));
    fireEvent.click(await screen.findByRole('button', { name: 'Scan QR code' }));
    expect(screen.getByRole('group', { name: 'QR code scanner' })).toBeTruthy();
    expect((await screen.findByRole('alert')).textContent).toMatch(/Camera access was denied/);
    fireEvent.change(screen.getByTestId('approve-code'), {
      target: { value: 'parley://link?address=a&key=b' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Approve device' }));
    expect(await screen.findByText('Device linked.')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Close' }));
    const scan = screen.getByRole('button', { name: 'Scan QR code' });
    await waitFor(() => expect(document.activeElement).toBe(scan));
  });
});
