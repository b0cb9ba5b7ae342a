/**
 * Files between two browsers through the real relay: Alice attaches an image with the file
 * input and Bob sees it inline (decrypted in his browser into a `blob:` URL); a non-image file
 * shows as a card whose Download saves the identical bytes.
 */
import { readFile } from 'node:fs/promises';
import { crc32, deflateSync } from 'node:zlib';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { acceptRequest, openByPreview, register, send, startChat } from './app.ts';

test.describe.configure({ mode: 'serial' });

const run = Date.now().toString(36);
const names = { alice: `falice_${run}`, bob: `fbob_${run}` };
const contexts: BrowserContext[] = [];
let alice: Page;
let bob: Page;
/** Anything the page's Content-Security-Policy blocked (the blob: images must not be). */
const cspViolations: string[] = [];

test.afterAll(async () => {
  for (const c of contexts) await c.close();
});

/** A `width`×`height` PNG of coloured stripes, encoded here (zlib's deflate and CRC-32). */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      rows.set([(x * 6) & 0xff, (y * 8) & 0xff, 160], y * (width * 3 + 1) + 1 + x * 3);
    }
  }
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('an attached image shows inline on the other side', async ({ browser }) => {
  for (let i = 0; i < 2; i++) {
    contexts.push(await browser.newContext({ viewport: { width: 1200, height: 780 } }));
  }
  alice = await contexts[0]!.newPage();
  bob = await contexts[1]!.newPage();
  for (const page of [alice, bob]) {
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });
  }
  await register(alice, names.alice);
  await register(bob, names.bob);
  await startChat(alice, names.bob);
  await send(alice, `files coming ${run}`);
  await openByPreview(bob, `files coming ${run}`);
  await acceptRequest(bob); // a first message from a stranger is a request

  await expect(alice.getByRole('button', { name: 'Attach a file' })).toBeVisible();
  await alice
    .getByTestId('attach-input')
    .setInputFiles({ name: 'stripes.png', mimeType: 'image/png', buffer: png(40, 30) });

  const img = bob.getByTestId('attachment-image').getByRole('img', { name: 'stripes.png' });
  await expect(img).toBeVisible();
  expect(await img.getAttribute('src')).toMatch(/^blob:/);
  await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(40);
  // Alice's browser measured the image before sending: the pointer carries its size.
  expect(await img.getAttribute('width')).toBe('40');
  expect(await img.getAttribute('height')).toBe('30');
});

test('a file shows as a card and downloads with identical bytes', async () => {
  const bytes = Buffer.alloc(150_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff;
  await alice.getByTestId('attach-input').setInputFiles({
    name: `notes-${run}.bin`,
    mimeType: 'application/octet-stream',
    buffer: bytes,
  });

  const card = bob.getByTestId('attachment-file').filter({ hasText: `notes-${run}.bin` });
  await expect(card).toContainText('146.5 KB');
  const [download] = await Promise.all([
    bob.waitForEvent('download'),
    card.getByRole('button', { name: 'Download' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`notes-${run}.bin`);
  const saved = await readFile((await download.path())!);
  expect(saved.equals(bytes)).toBe(true);
});

test('the Content-Security-Policy blocked nothing (blob: images, downloads)', () => {
  expect(cspViolations).toEqual([]);
});
