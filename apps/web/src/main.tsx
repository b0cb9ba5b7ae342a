import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { ClientModel } from './model/client-model.ts';
import './styles.css';

const model = new ClientModel({ relayUrl: __PARLEY_RELAY_URL__ });
void model.init();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App model={model} />
  </StrictMode>,
);
