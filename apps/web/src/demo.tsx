/**
 * Development only (`vite` → /demo.html; not part of the production build): the UI on the
 * in-memory model with sample conversations, for design work and screenshots without a relay.
 * `?screen=welcome|locked` shows those screens instead.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { FakeModel } from './model/fake-model.ts';
import './styles.css';

const screen = new URLSearchParams(location.search).get('screen');
const model = new FakeModel(
  screen === 'welcome' ? 'welcome' : screen === 'locked' ? 'locked' : 'ready',
);
if (!screen) {
  model.update({ me: { accountId: 'acc-alice', deviceId: 1, username: 'alice', isPrimary: true } });
  const bob = model.addContact('bob', { verified: true });
  const carol = model.addContact('carol', { identityChanged: true });
  const dave = model.addContact('dave');
  const h = 3_600_000;
  const now = Date.now();
  model.receive(`direct:${dave}`, dave, 'Did you see the new release notes?', now - 9 * 24 * h);
  model.receive(`direct:${carol}`, carol, 'Call me when you land ✈️', now - 26 * h);
  model.receive(`direct:${bob}`, bob, 'Hey Alice! Are we still on for Saturday?', now - 25 * h);
  model.now = () => now - 24.5 * h;
  void model.sendText(`direct:${bob}`, 'Yes! 10am at the usual place.');
  model.receive(`direct:${bob}`, bob, 'Perfect. I will bring the maps.', now - 2 * h);
  model.receive(
    `direct:${bob}`,
    bob,
    'Also: <b>this is not bold</b> — text is always text.',
    now - 2 * h + 60_000,
  );
  model.now = () => now - 10 * 60_000;
  void model.sendText(`direct:${bob}`, 'Great, see you there 👋\nI will text when I leave.');
  model.now = Date.now;
  void model.createGroup('Weekend trip', ['bob', 'carol', 'dave']).then((id) => {
    model.receive(id, dave, 'Who is driving?', now - 30 * 60_000);
  });
  model.typingFrom(`direct:${bob}`, [bob]);
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App model={model} />
  </StrictMode>,
);
