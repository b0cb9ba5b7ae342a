/**
 * Replies, reactions, edits and deletions on screen (the fake model): every control is a
 * button reachable by keyboard, and each shows its result in the list.
 */
import { act, fireEvent, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderApp } from './test-support.tsx';

async function chatWithBob() {
  const model = renderApp();
  const bob = model.addContact('bob');
  act(() => model.receive(`direct:${bob}`, bob, 'lunch at noon?'));
  fireEvent.click(screen.getAllByTestId('conversation-item')[0]!);
  await screen.findByTestId('conversation-title');
  return { model, bob, conv: `direct:${bob}` };
}

const row = (text: string) =>
  screen.getAllByTestId('message').find((li) => li.textContent?.includes(text))!;

function menuOf(text: string) {
  fireEvent.click(within(row(text)).getByRole('button', { name: 'Message actions' }));
  return within(within(row(text)).getByRole('menu'));
}

describe('message actions on screen', () => {
  it('reacts, and shows who reacted; choosing the same emoji again takes it back', async () => {
    const { model, conv } = await chatWithBob();
    menuOf('lunch at noon?').getByRole('menuitemcheckbox', { name: 'React 👍' }).click();
    const reaction = await within(row('lunch at noon?')).findByRole('button', {
      name: '👍 1: you',
    });
    expect(reaction.getAttribute('aria-pressed')).toBe('true');
    expect(model.calls).toContainEqual(['react', conv, 'm1', '👍']);
    fireEvent.click(reaction);
    expect(model.calls).toContainEqual(['react', conv, 'm1', null]);
  });

  it('replies with a quote that leads back to the original', async () => {
    const { model, conv } = await chatWithBob();
    fireEvent.click(menuOf('lunch at noon?').getByRole('menuitem', { name: 'Reply' }));
    expect(screen.getByTestId('composer-draft').textContent).toContain('Replying to bob');
    const box = screen.getByLabelText('Message', { exact: true });
    fireEvent.change(box, { target: { value: 'yes!' } });
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(model.calls).toContainEqual(['sendText', conv, 'yes!', 'm1']);
    const quote = await within(row('yes!')).findByTestId('quote');
    expect(quote.textContent).toContain('bob');
    expect(quote.textContent).toContain('lunch at noon?');
    expect(screen.queryByTestId('composer-draft')).toBeNull();
  });

  it('edits and deletes our own message, and offers neither for theirs', async () => {
    const { model, conv } = await chatWithBob();
    const theirs = menuOf('lunch at noon?');
    expect(theirs.queryByRole('menuitem', { name: 'Edit' })).toBeNull();
    expect(theirs.queryByRole('menuitem', { name: 'Delete for everyone' })).toBeNull();
    fireEvent.keyDown(theirs.getByRole('menuitem', { name: 'Reply' }), { key: 'Escape' });
    expect(within(row('lunch at noon?')).queryByRole('menu')).toBeNull();

    const box = screen.getByLabelText('Message', { exact: true });
    fireEvent.change(box, { target: { value: 'at one' } });
    fireEvent.keyDown(box, { key: 'Enter' });
    await screen.findByText('at one');
    fireEvent.click(menuOf('at one').getByRole('menuitem', { name: 'Edit' }));
    expect((box as HTMLTextAreaElement).value).toBe('at one');
    fireEvent.change(box, { target: { value: 'at one thirty' } });
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(model.calls).toContainEqual(['editMessage', conv, 'm2', 'at one thirty']);
    expect(
      within(await screen.findByText('at one thirty').then(() => row('at one thirty'))).getByTestId(
        'edited',
      ),
    ).toBeTruthy();

    fireEvent.click(menuOf('at one thirty').getByRole('menuitem', { name: 'Delete for everyone' }));
    expect(await screen.findByText('You deleted this message.')).toBeTruthy();
    fireEvent.click(menuOf('lunch at noon?').getByRole('menuitem', { name: 'Delete for me' }));
    await act(async () => {});
    expect(screen.queryByText('lunch at noon?')).toBeNull();
  });
});
