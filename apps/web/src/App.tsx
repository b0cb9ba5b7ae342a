import { ModelContext, useModelState } from './model/context.tsx';
import type { ChatModel } from './model/types.ts';
import { Spinner } from './components/States.tsx';
import { LockScreen } from './screens/LockScreen.tsx';
import { Onboarding } from './screens/Onboarding.tsx';
import { Shell } from './screens/Shell.tsx';

export function App({ model }: { model: ChatModel }) {
  return (
    <ModelContext.Provider value={model}>
      <Root />
    </ModelContext.Provider>
  );
}

function Root() {
  const { phase } = useModelState();
  switch (phase.kind) {
    case 'loading':
      return (
        <main className="splash">
          <Spinner label="Opening Parley…" />
        </main>
      );
    case 'locked':
      return <LockScreen />;
    case 'welcome':
      return <Onboarding />;
    case 'error':
      return (
        <main className="splash">
          <div className="onboarding__card">
            <h1>Parley could not start</h1>
            <p className="error-text" role="alert">
              {phase.message}
            </p>
          </div>
        </main>
      );
    case 'ready':
      return <Shell />;
  }
}
