import { useState, type FormEvent } from 'react';
import { Icon } from '../components/Icon.tsx';
import { ErrorText } from '../components/States.tsx';
import { useAction, useChatModel } from '../model/context.tsx';

export function LockScreen() {
  const model = useChatModel();
  const [passphrase, setPassphrase] = useState('');
  const [unlock, { busy, error }] = useAction((p: string) => model.unlock(p));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (passphrase) void unlock(passphrase);
  };
  return (
    <main className="onboarding">
      <form className="onboarding__card stack" onSubmit={submit}>
        <div className="brand">
          <Icon name="lock" size={32} />
          <h1>Parley is locked</h1>
        </div>
        <p className="muted">Your messages on this device are encrypted with your passphrase.</p>
        <label className="field">
          <span className="field__label">Passphrase</span>
          <input
            type="password"
            autoComplete="current-password"
            autoFocus
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
          />
        </label>
        <ErrorText error={error} />
        <button type="submit" className="button button--primary" disabled={busy || !passphrase}>
          {busy ? 'Unlocking…' : 'Unlock'}
        </button>
      </form>
    </main>
  );
}
