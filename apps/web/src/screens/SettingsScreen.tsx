import { useState, type FormEvent } from 'react';
import { PageHeader } from '../components/PageHeader.tsx';
import { ErrorText } from '../components/States.tsx';
import { useAction, useChatModel, useModelState } from '../model/context.tsx';
import { AppearanceCard, NotificationsCard } from './PreferenceCards.tsx';

export function SettingsScreen({ onBack }: { onBack: () => void }) {
  const state = useModelState();
  return (
    <div className="page">
      <PageHeader title="Settings" onBack={onBack} />
      <div className="page__content">
        <section className="card">
          <h3>Account</h3>
          <p>
            Signed in as <strong>{state.me?.username}</strong>
            <span className="muted"> · device {state.me?.deviceId}</span>
          </p>
        </section>
        <AppearanceCard />
        <NotificationsCard />
        <PassphraseCard hasPassphrase={state.hasPassphrase} />
        <ExportCard />
        <DeleteAccountCard username={state.me?.username ?? ''} />
      </div>
    </div>
  );
}

function PassphraseCard({ hasPassphrase }: { hasPassphrase: boolean }) {
  const model = useChatModel();
  const [pass, setPass] = useState('');
  const [again, setAgain] = useState('');
  const [problem, setProblem] = useState<string>();
  const [saved, setSaved] = useState(false);
  const [save, saveState] = useAction(async (p: string | null) => {
    await model.setPassphrase(p);
    return true;
  });
  const [lock, lockState] = useAction(() => model.lock());
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p =
      pass.length < 8
        ? 'Use at least 8 characters.'
        : pass !== again
          ? 'The passphrases differ.'
          : undefined;
    setProblem(p);
    setSaved(false);
    if (p) return;
    if (await save(pass)) {
      setPass('');
      setAgain('');
      setSaved(true);
    }
  };
  return (
    <section className="card">
      <h3>Lock with a passphrase</h3>
      <p className="muted">
        Your messages and keys on this device are always encrypted at rest. With a passphrase, they
        can only be opened after you type it.
      </p>
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        <div className="row">
          <label className="field grow">
            <span className="field__label">{hasPassphrase ? 'New passphrase' : 'Passphrase'}</span>
            <input
              type="password"
              autoComplete="new-password"
              value={pass}
              onChange={(e) => setPass(e.target.value)}
            />
          </label>
          <label className="field grow">
            <span className="field__label">Repeat</span>
            <input
              type="password"
              autoComplete="new-password"
              value={again}
              onChange={(e) => setAgain(e.target.value)}
            />
          </label>
        </div>
        <ErrorText error={problem ?? saveState.error ?? lockState.error} />
        {saved && (
          <p className="success-text" role="status">
            Passphrase saved.
          </p>
        )}
        <div className="row row--end">
          {hasPassphrase && (
            <>
              <button
                type="button"
                className="button"
                disabled={saveState.busy}
                onClick={() => void save(null)}
              >
                Remove passphrase
              </button>
              <button
                type="button"
                className="button"
                disabled={lockState.busy}
                onClick={() => void lock()}
              >
                Lock now
              </button>
            </>
          )}
          <button type="submit" className="button button--primary" disabled={saveState.busy}>
            {hasPassphrase ? 'Change passphrase' : 'Set passphrase'}
          </button>
        </div>
      </form>
    </section>
  );
}

function ExportCard() {
  const model = useChatModel();
  const [exportData, { busy, error }] = useAction(async () => {
    const blob = await model.exportData();
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `parley-export-${new Date().toISOString().slice(0, 10)}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  return (
    <section className="card">
      <h3>Export my data</h3>
      <p className="muted">
        Download what this device and the relay keep about your account: your profile, devices,
        contacts, groups and message history. Private keys are not included.
      </p>
      <ErrorText error={error} />
      <button type="button" className="button" disabled={busy} onClick={() => void exportData()}>
        {busy ? 'Preparing…' : 'Export my data'}
      </button>
    </section>
  );
}

function DeleteAccountCard({ username }: { username: string }) {
  const model = useChatModel();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [remove, { busy, error }] = useAction(() => model.deleteAccount());
  return (
    <section className="card card--danger">
      <h3>Delete account</h3>
      <p className="muted">
        Removes your account from the relay and erases everything on this device. Your contacts keep
        the messages they already received. This cannot be undone.
      </p>
      {open ? (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            if (typed === username) void remove();
          }}
        >
          <label className="field">
            <span className="field__label">Type your username, {username}, to confirm</span>
            <input
              autoCapitalize="none"
              spellCheck={false}
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
            />
          </label>
          <ErrorText error={error} />
          <div className="row row--end">
            <button type="button" className="button" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button
              type="submit"
              className="button button--danger"
              disabled={busy || typed !== username}
            >
              Delete my account
            </button>
          </div>
        </form>
      ) : (
        <button type="button" className="button button--ghost-danger" onClick={() => setOpen(true)}>
          Delete account…
        </button>
      )}
    </section>
  );
}
