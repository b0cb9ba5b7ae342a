/**
 * Files on screen (the fake model): the attach button is a labelled button, files come in by
 * the file input, drag and drop and paste; images show inline from a `blob:` URL that is revoked
 * when the bubble goes; other files are cards whose Download decrypts and saves; failures say
 * why and offer Retry.
 */
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App.tsx';
import { FakeModel } from '../model/fake-model.ts';

async function chatWithBob() {
  const model = new FakeModel('ready');
  const view = render(<App model={model} />);
  const bob = model.addContact('bob');
  act(() => model.receive(`direct:${bob}`, bob, 'send me the files'));
  fireEvent.click(screen.getAllByTestId('conversation-item')[0]!);
  await screen.findByTestId('conversation-title');
  return { model, bob, conv: `direct:${bob}`, view };
}

const created: string[] = [];
const revoked: string[] = [];
beforeEach(() => {
  created.length = 0;
  revoked.length = 0;
  let n = 0;
  vi.spyOn(URL, 'createObjectURL').mockImplementation(() => {
    const url = `blob:test/${++n}`;
    created.push(url);
    return url;
  });
  vi.spyOn(URL, 'revokeObjectURL').mockImplementation((url) => void revoked.push(url));
});
afterEach(() => vi.restoreAllMocks());

const pdf = () =>
  new File([new Uint8Array([1, 2, 3, 4])], 'report.pdf', { type: 'application/pdf' });
const png = () => new File([new Uint8Array([137, 80, 78, 71])], 'cat.png', { type: 'image/png' });

describe('attachments on screen', () => {
  it('sends a chosen file through a labelled, keyboard-reachable attach button', async () => {
    const { model, conv } = await chatWithBob();
    const button = screen.getByRole('button', { name: 'Attach a file' });
    expect(button.tagName).toBe('BUTTON');
    const input = screen.getByTestId('attach-input') as HTMLInputElement;
    const click = vi.spyOn(input, 'click');
    fireEvent.click(button);
    expect(click).toHaveBeenCalled();
    fireEvent.change(input, { target: { files: [pdf()] } });
    await waitFor(() =>
      expect(model.calls).toContainEqual(['sendFile', conv, 'report.pdf', undefined]),
    );
    const card = await screen.findByTestId('attachment-file');
    expect(card.textContent).toContain('report.pdf');
    expect(card.textContent).toContain('4 B');
  });

  it('takes dropped and pasted files', async () => {
    const { model, conv } = await chatWithBob();
    const section = screen.getByRole('region', { name: /Conversation with bob/ });
    fireEvent.dragOver(section, { dataTransfer: { types: ['Files'], files: [pdf()] } });
    expect(section.className).toContain('conversation--drop');
    fireEvent.drop(section, { dataTransfer: { types: ['Files'], files: [pdf()] } });
    expect(section.className).not.toContain('conversation--drop');
    fireEvent.paste(screen.getByLabelText('Message', { exact: true }), {
      clipboardData: { files: [png()] },
    });
    await waitFor(() => {
      expect(model.calls).toContainEqual(['sendFile', conv, 'report.pdf', undefined]);
      expect(model.calls).toContainEqual(['sendFile', conv, 'cat.png', undefined]);
    });
  });

  it('shows a received image inline from a blob: URL and revokes it when it goes', async () => {
    const { model, conv, view } = await chatWithBob();
    act(() => void model.receiveFile(conv, 'acc-bob', png(), { width: 4, height: 3 }));
    const figure = await screen.findByTestId('attachment-image');
    const img = await within(figure).findByRole('img', { name: 'cat.png' });
    expect(img.getAttribute('src')).toBe(created[0]);
    expect(img.getAttribute('src')).toMatch(/^blob:/);
    view.unmount();
    expect(revoked).toContain(created[0]);
  });

  it('shows the sender’s thumbnail until the image opens, and why it did not', async () => {
    const { model, conv } = await chatWithBob();
    model.failDownload = 'Failed: the relay could not be reached.';
    act(
      () =>
        void model.receiveFile(conv, 'acc-bob', png(), {
          width: 4,
          height: 3,
          thumbnail: new Uint8Array([255, 216, 255]),
        }),
    );
    const figure = await screen.findByTestId('attachment-image');
    const failure = await within(figure).findByTestId('download-failure');
    expect(failure.textContent).toContain('could not be reached');
    await waitFor(() =>
      expect(figure.querySelector('img.attachment__thumb')?.getAttribute('src')).toMatch(/^blob:/),
    );
    fireEvent.click(within(failure).getByRole('button', { name: 'Retry' }));
    const img = await within(figure).findByRole('img', { name: 'cat.png' });
    expect(img.getAttribute('src')).toMatch(/^blob:/);
    expect(figure.querySelector('img.attachment__thumb')).toBeNull();
  });

  it('downloads a file card through an <a download> on a blob: URL', async () => {
    const { model, conv } = await chatWithBob();
    act(() => void model.receiveFile(conv, 'acc-bob', pdf()));
    const clicked: Array<{ href: string; download: string }> = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      clicked.push({ href: this.href, download: this.download });
    });
    const card = await screen.findByTestId('attachment-file');
    fireEvent.click(within(card).getByRole('button', { name: 'Download' }));
    await waitFor(() => expect(clicked).toEqual([{ href: created[0], download: 'report.pdf' }]));
  });

  it('a failed download says why and retries', async () => {
    const { model, conv } = await chatWithBob();
    act(() => void model.receiveFile(conv, 'acc-bob', pdf()));
    model.failDownload = 'Not opened: the file was altered or damaged on the way.';
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    const card = await screen.findByTestId('attachment-file');
    fireEvent.click(within(card).getByRole('button', { name: 'Download' }));
    const failure = await within(card).findByTestId('download-failure');
    expect(failure.textContent).toContain('altered or damaged');
    fireEvent.click(within(failure).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(within(card).queryByTestId('download-failure')).toBeNull());
    expect(model.calls.filter((c) => c[0] === 'openAttachment')).toHaveLength(2);
  });

  it('a failed upload shows the reason and Retry sends the same message', async () => {
    const { model, conv } = await chatWithBob();
    model.failUpload = 'quota';
    fireEvent.change(screen.getByTestId('attach-input'), { target: { files: [pdf()] } });
    const note = await screen.findByTestId('send-failure');
    expect(note.textContent).toContain('could not be uploaded');
    expect(screen.getByTestId('upload-failure').textContent).toContain(
      'storage on the relay is full',
    );
    fireEvent.click(within(note).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(screen.queryByTestId('send-failure')).toBeNull());
    expect(model.calls.find((c) => c[0] === 'retrySend')?.[1]).toBe(conv);
    expect(screen.getAllByTestId('attachment-file')).toHaveLength(1);
  });
});
