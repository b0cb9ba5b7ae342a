import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { PageHeader } from '../components/PageHeader.tsx';
import { QrScanner } from '../components/QrScanner.tsx';
import { EmptyState, ErrorText, Spinner } from '../components/States.tsx';
import { formatLastActive } from '../lib/last-active.ts';
import { looksLikeLinkUri } from '../lib/validate.ts';
import { errorMessage, useAction, useChatModel, useModelState } from '../model/context.tsx';
import { progressText } from '../model/history.ts';
import type { Device } from '../model/types.ts';

export function DevicesScreen({ onBack }: { onBack: () => void }) {
  const model = useChatModel();
  const { me, devicesRevision } = useModelState();
  const [devices, setDevices] = useState<Device[]>();
  const [loadError, setLoadError] = useState<string>();
  const reload = useCallback(() => {
    model.listDevices().then(setDevices, (err: unknown) => setLoadError(errorMessage(err)));
  }, [model]);
  useEffect(() => {
    reload();
    // A device approved here registers a moment later: keep the list fresh while it is shown.
    const timer = setInterval(reload, 3000);
    return () => clearInterval(timer);
  }, [reload]);
  // A newly linked device announces itself at once: list it then, not at the next poll.
  useEffect(() => {
    if (devicesRevision) reload();
  }, [reload, devicesRevision]);
  const [unlink, unlinkState] = useAction(async (id: number) => {
    await model.unlinkDevice(id);
    reload();
  });
  const [confirm, setConfirm] = useState<number>();

  return (
    <div className="page">
      <PageHeader title="Devices" onBack={onBack} />
      <div className="page__content">
        <section className="card">
          <h3>Linked devices</h3>
          {loadError ? (
            <ErrorText error={loadError} />
          ) : !devices ? (
            <Spinner label="Loading devices…" />
          ) : devices.length === 0 ? (
            <EmptyState title="No devices" />
          ) : (
            <ul className="list" aria-label="Devices">
              {devices.map((d) => (
                <li key={d.deviceId} className="list__item" data-testid="device">
                  <span className="grow">
                    <strong data-testid="device-name">{d.name ?? `Device ${d.deviceId}`}</strong>
                    {d.current && <span className="pill">This device</span>}
                    {d.lastSeenAt !== undefined && (
                      <span className="muted small block" data-testid="device-last-active">
                        {formatLastActive(d.lastSeenAt, Date.now())}
                      </span>
                    )}
                  </span>
                  {!d.current &&
                    me?.isPrimary &&
                    (confirm === d.deviceId ? (
                      <>
                        <button
                          type="button"
                          className="button"
                          onClick={() => setConfirm(undefined)}
                        >
                          Cancel
                        </button>
                        <button
                          type="button"
                          className="button button--danger"
                          disabled={unlinkState.busy}
                          onClick={() => void unlink(d.deviceId)}
                        >
                          Unlink
                        </button>
                      </>
                    ) : (
                      <button
                        type="button"
                        className="button button--ghost-danger"
                        onClick={() => setConfirm(d.deviceId)}
                      >
                        Unlink…
                      </button>
                    ))}
                </li>
              ))}
            </ul>
          )}
          <ErrorText error={unlinkState.error} />
        </section>
        {me?.isPrimary ? (
          <LinkNewDevice onLinked={reload} />
        ) : (
          <p className="muted card">New devices are approved from your first device.</p>
        )}
      </div>
    </div>
  );
}

function LinkNewDevice({ onLinked }: { onLinked: () => void }) {
  const model = useChatModel();
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<string>();
  const [done, setDone] = useState(false);
  const [scanning, setScanning] = useState(false);
  const [transferHistory, setTransferHistory] = useState(true);
  const history = useModelState().history;
  const scanButton = useRef<HTMLButtonElement>(null);
  const [approve, { busy, error }] = useAction(async (uri: string) => {
    await model.approveDevice(uri, { transferHistory });
    return true;
  });
  const link = async (uri: string) => {
    const p = looksLikeLinkUri(uri)
      ? undefined
      : 'Paste the code shown on the new device (it starts with parley://link).';
    setProblem(p);
    setDone(false);
    if (p) return;
    const ok = await approve(uri);
    if (ok) {
      setCode('');
      setDone(true);
      onLinked();
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void link(code.trim());
  };
  const stopScanning = useCallback(() => {
    setScanning(false);
    // Back to the button that opened the camera, for keyboard users.
    setTimeout(() => scanButton.current?.focus(), 0);
  }, []);
  const onScanned = (text: string) => {
    const uri = text.trim();
    if (!looksLikeLinkUri(uri)) return false;
    setScanning(false);
    setCode(uri);
    void link(uri);
    return true;
  };
  return (
    <section className="card">
      <h3>Link a new device</h3>
      <p className="muted">
        On the new device, choose “Link to an existing account”, then scan the QR code it shows or
        paste its code here. The new device will get your account’s keys, your contacts and, if you
        choose, your message history — only approve a device you hold.
      </p>
      {scanning ? (
        <QrScanner
          onCode={onScanned}
          onClose={stopScanning}
          invalidHint="That QR code is not a Parley link code. Scan the code on the new device."
        />
      ) : (
        <div className="row">
          <button
            ref={scanButton}
            type="button"
            className="button"
            disabled={busy}
            onClick={() => {
              setProblem(undefined);
              setDone(false);
              setScanning(true);
            }}
          >
            Scan QR code
          </button>
        </div>
      )}
      <form className="stack" onSubmit={submit} noValidate>
        <label className="field">
          <span className="field__label">Code from the new device</span>
          <textarea
            rows={3}
            spellCheck={false}
            value={code}
            onChange={(e) => setCode(e.target.value)}
            data-testid="approve-code"
          />
        </label>
        <label className="row">
          <input
            type="checkbox"
            checked={transferHistory}
            disabled={busy}
            onChange={(e) => setTransferHistory(e.target.checked)}
            data-testid="transfer-history"
          />
          <span>Transfer message history (encrypted; only the new device can read it)</span>
        </label>
        {busy && history?.status === 'transferring' && (
          <p className="muted" role="status" data-testid="history-progress">
            {progressText(history)}
          </p>
        )}
        {history?.status === 'failed' && (busy || done) && (
          <p className="muted" role="status">
            {history.reason}. The device is linked without it.
          </p>
        )}
        <ErrorText error={problem ?? error} />
        {done && (
          <p className="success-text" role="status">
            Device linked.
          </p>
        )}
        <div className="row row--end">
          <button type="submit" className="button button--primary" disabled={busy}>
            {busy ? 'Linking…' : 'Approve device'}
          </button>
        </div>
      </form>
    </section>
  );
}
