import { useEffect, useState, type FormEvent } from 'react';
import { CopyButton } from '../components/CopyButton.tsx';
import { QrCode } from '../components/QrCode.tsx';
import { ErrorText, Spinner } from '../components/States.tsx';
import { errorMessage, useAction, useChatModel } from '../model/context.tsx';
import type { LinkOffer } from '../model/types.ts';
import { usernameProblem } from '../lib/validate.ts';

export function Onboarding() {
  const [mode, setMode] = useState<'register' | 'link'>('register');
  return (
    <main className="onboarding">
      <div className="onboarding__card">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={40} height={40} />
          <h1>Parley</h1>
        </div>
        <p className="muted">
          Private messaging, end-to-end encrypted. Only you and the people you talk to can read what
          you send.
        </p>
        <div className="segmented" role="tablist" aria-label="How to start">
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'register'}
            onClick={() => setMode('register')}
          >
            New account
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'link'}
            onClick={() => setMode('link')}
          >
            Link to my account
          </button>
        </div>
        {mode === 'register' ? <RegisterForm /> : <LinkThisDevice />}
      </div>
    </main>
  );
}

function RegisterForm() {
  const model = useChatModel();
  const [username, setUsername] = useState('');
  const [touched, setTouched] = useState(false);
  const [register, { busy, error }] = useAction((name: string) => model.register(name));
  const problem = usernameProblem(username);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!problem) void register(username.trim());
  };
  return (
    <form className="stack" onSubmit={submit} noValidate>
      <div className="field">
        <label className="field">
          <span className="field__label">Username</span>
          <input
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            onBlur={() => setTouched(username !== '')}
            aria-invalid={touched && !!problem}
            aria-describedby="username-hint"
          />
        </label>
        <span
          id="username-hint"
          className={touched && problem ? 'field__hint field__hint--error' : 'field__hint'}
        >
          {touched && problem
            ? problem
            : '3–32 letters, digits, "_" or ".". People find you by it.'}
        </span>
      </div>
      <ErrorText error={error} />
      <button type="submit" className="button button--primary" disabled={busy}>
        {busy ? 'Creating your keys…' : 'Create account'}
      </button>
    </form>
  );
}

function LinkThisDevice() {
  const model = useChatModel();
  const [offer, setOffer] = useState<LinkOffer>();
  const [error, setError] = useState<string>();
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const abort = new AbortController();
    setOffer(undefined);
    setError(undefined);
    model.startLinking(setOffer, abort.signal).catch((err: unknown) => {
      if (!abort.signal.aborted) setError(errorMessage(err));
    });
    return () => abort.abort();
  }, [model, attempt]);

  if (error) {
    return (
      <div className="stack">
        <ErrorText error={error} />
        <button type="button" className="button" onClick={() => setAttempt((n) => n + 1)}>
          Try again
        </button>
      </div>
    );
  }
  if (!offer) {
    return (
      <div className="center-box">
        <Spinner label="Preparing a link code…" />
      </div>
    );
  }
  return (
    <div className="stack link-offer">
      <ol className="steps">
        <li>
          On a device where you are signed in, open <strong>Devices</strong>.
        </li>
        <li>
          Choose <strong>Link a new device</strong> and scan this code, or paste the text below.
        </li>
      </ol>
      <div className="center-box">
        <QrCode value={offer.uri} label="Link code as a QR code" />
      </div>
      <label className="field">
        <span className="field__label">Link code</span>
        <div className="copy-row">
          <input
            readOnly
            value={offer.uri}
            data-testid="link-code"
            onFocus={(e) => e.target.select()}
          />
          <CopyButton text={offer.uri} />
        </div>
      </label>
      <p className="muted small" role="status">
        <Spinner label="" /> Waiting for approval from your other device…
      </p>
    </div>
  );
}
