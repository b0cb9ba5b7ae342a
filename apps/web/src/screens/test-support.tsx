/** What the screen tests share: the app rendered over the in-memory model, and opening a chat. */
import { fireEvent, render, screen } from '@testing-library/react';
import { App } from '../App.tsx';
import { FakeModel } from '../model/fake-model.ts';

/** Renders the app over a fresh in-memory model in the given state, and returns the model. */
export function renderApp(initial: 'welcome' | 'ready' | 'locked' = 'ready'): FakeModel {
  const model = new FakeModel(initial);
  render(<App model={model} />);
  return model;
}

/** Opens the conversation whose list entry mentions `title`, once the list shows it. */
export async function openChat(title: string): Promise<void> {
  const item = (await screen.findAllByTestId('conversation-item')).find((el) =>
    el.textContent?.includes(title),
  );
  if (!item) throw new Error(`no conversation "${title}" in the list`);
  fireEvent.click(item);
  await screen.findByTestId('conversation-title');
}
