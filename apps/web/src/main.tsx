import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { StateStore } from './model/store.ts';
import type { ChatModel } from './model/types.ts';
import { applyTheme } from './lib/preferences.ts';
import './styles.css';

applyTheme();

const root = createRoot(document.getElementById('root')!);
const render = (model: ChatModel) =>
  root.render(
    <StrictMode>
      <App model={model} />
    </StrictMode>,
  );

// The protocol code is a separate chunk: the splash shows at once, and if that code cannot
// load in this browser the page says so instead of staying blank.
const booting = new StateStore();
render(booting as unknown as ChatModel);
import('./model/client-model.ts').then(
  ({ ClientModel }) => {
    const model = new ClientModel({ relayUrl: __PARLEY_RELAY_URL__ || location.origin });
    render(model);
    void model.init();
  },
  (err: unknown) => {
    console.error('parley: the client failed to load', err);
    booting.update({
      phase: { kind: 'error', message: 'This browser could not load Parley’s encryption code.' },
    });
  },
);
