/** Page helpers for the web client, in the words a user would use. */
import { expect, type Page } from '@playwright/test';
import { E2E } from './env.ts';

export async function register(page: Page, username: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Username').fill(username);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('my-username')).toHaveText(username);
}

export async function startChat(page: Page, username: string): Promise<void> {
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.getByRole('dialog').getByLabel('Username').fill(username);
  await page.getByRole('button', { name: 'Start chat' }).click();
  await expect(page.getByTestId('conversation-title')).toHaveText(username);
}

export async function openConversation(page: Page, title: string): Promise<void> {
  await page.getByTestId('conversation-item').filter({ hasText: title }).click();
  await expect(page.getByTestId('conversation-title')).toHaveText(title);
}

export async function send(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
  await expectMessage(page, text);
}

export async function expectMessage(page: Page, text: string): Promise<void> {
  await expect(page.getByTestId('message-text').filter({ hasText: text })).toBeVisible();
}

export async function expectConversation(
  page: Page,
  title: string,
  preview: string,
): Promise<void> {
  await expect(
    page.getByTestId('conversation-item').filter({ hasText: title }).filter({ hasText: preview }),
  ).toBeVisible();
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${E2E.screenshots}/${name}.png` });
}

/** The safety number with `contact`, or with the open conversation's peer. */
export async function safetyNumber(page: Page, contact?: string): Promise<string> {
  if (contact) await openConversation(page, contact);
  await page.getByRole('button', { name: 'Safety number' }).click();
  const digits = page.getByTestId('safety-number');
  await expect(digits).toHaveText(/^[0-9]{60}$/);
  return (await digits.textContent()) ?? '';
}

/**
 * Opens the conversation whose last message is `preview`. A first message from someone we never
 * looked up is titled with their username once the relay confirms the name the message claims
 * (`openConversation` by name works then); until that lookup is done the title is a short
 * account id, and this finds the conversation either way.
 */
export async function openByPreview(page: Page, preview: string): Promise<void> {
  await page.getByTestId('conversation-item').filter({ hasText: preview }).click();
  await expect(page.getByTestId('conversation-title')).toBeVisible();
}

/**
 * Accepts the message request open on `page` (a first message from someone we never wrote
 * to, or a group they added us to): the composer takes the request bar's place.
 */
export async function acceptRequest(page: Page): Promise<void> {
  await page
    .getByRole('region', { name: 'Message request' })
    .getByRole('button', { name: 'Accept' })
    .click();
  await expect(page.getByLabel('Message', { exact: true })).toBeVisible();
}
