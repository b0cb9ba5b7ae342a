/**
 * Disappearing messages on screen (the fake model): the timer menu in the conversation header
 * sets the timer and the change shows as an event line; a disappearing message carries a timer
 * mark; a reply to a message that disappeared says so instead of quoting it.
 */
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App } from '../App.tsx';
import { FakeModel } from '../model/fake-model.ts';
import type { Message } from '../model/types.ts';

async function chatWithBob() {
  const model = new FakeModel('ready');
  render(<App model={model} />);
  const bob = model.addContact('bob');
  act(() => model.receive(`direct:${bob}`, bob, 'lunch at noon?'));
  fireEvent.click(screen.getAllByTestId('conversation-item')[0]!);
  await screen.findByTestId('conversation-title');
  return { model, bob, conv: `direct:${bob}` };
}

function patch(model: FakeModel, conv: string, change: (m: Message) => Message) {
  act(() =>
    model.update((s) => ({
      messages: { ...s.messages, [conv]: (s.messages[conv] ?? []).map(change) },
    })),
  );
}

describe('disappearing messages on screen', () => {
  it('sets the timer from the header and shows the change in the chat', async () => {
    const { model, conv } = await chatWithBob();
    const select = screen.getByLabelText<HTMLSelectElement>('Disappearing messages');
    expect(select.value).toBe('0');
    expect(
      within(select)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['Off', '30 seconds', '5 minutes', '1 hour', '1 day', '1 week']);
    fireEvent.change(select, { target: { value: '300' } });
    expect(
      await screen.findByText('You set the disappearing message timer to 5 minutes.'),
    ).toBeTruthy();
    expect(model.calls).toContainEqual(['setExpireTimer', conv, 300]);
    expect(screen.getByLabelText<HTMLSelectElement>('Disappearing messages').value).toBe('300');
  });

  it('marks a disappearing message, and a reply to a vanished one says it is gone', async () => {
    const { model, bob, conv } = await chatWithBob();
    patch(model, conv, (m) => ({ ...m, expiresIn: 30 }));
    const row = screen.getAllByTestId('message')[0]!;
    expect(within(row).getByTestId('disappearing').textContent).toBe('⏱ 30s');
    act(() => model.receive(conv, bob, 'see above'));
    patch(model, conv, (m) =>
      m.text === 'see above'
        ? { ...m, quote: { id: 'vanished', authorAccountId: bob, text: '', gone: true } }
        : m,
    );
    expect(screen.getByTestId('quote').textContent).toContain('The original message disappeared.');
  });
});
