import { useEffect, useState } from 'react';
import { PageHeader } from '../components/PageHeader.tsx';
import { QrCode } from '../components/QrCode.tsx';
import { ErrorText, Spinner } from '../components/States.tsx';
import { safetyGroups } from '../lib/safety.ts';
import { errorMessage, useAction, useChatModel, useModelState } from '../model/context.tsx';
import { accountStatus, reusedUsernameWarning } from '../model/lifecycle.ts';
import type { SafetyNumber } from '../model/types.ts';

export function SafetyScreen({ accountId, onBack }: { accountId: string; onBack: () => void }) {
  const model = useChatModel();
  const contact = useModelState().contacts[accountId];
  const [safety, setSafety] = useState<SafetyNumber>();
  const [loadError, setLoadError] = useState<string>();
  useEffect(() => {
    let live = true;
    model.safetyNumber(accountId).then(
      (s) => live && setSafety(s),
      (err: unknown) => live && setLoadError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [model, accountId, contact?.identityChanged]);
  const verified = contact?.verified ?? safety?.verified ?? false;
  const [setVerified, { busy, error }] = useAction((v: boolean) => model.setVerified(accountId, v));

  return (
    <div className="page">
      <PageHeader title="Safety number" onBack={onBack} />
      <div className="page__content">
        {loadError ? (
          <ErrorText error={loadError} />
        ) : !safety ? (
          <div className="center-box">
            <Spinner label="Computing safety number…" />
          </div>
        ) : (
          <section className="card safety">
            <p>
              To verify end-to-end encryption with <strong>{safety.username}</strong>, compare the
              numbers below with the ones on their device, or scan their code. They are the same on
              both sides.
            </p>
            <div className="safety__qr">
              <QrCode
                value={safety.scannable}
                label={`Safety number QR code for ${safety.username}`}
                size={200}
              />
            </div>
            <div
              className="safety__digits"
              data-testid="safety-number"
              aria-label={`Safety number: ${safety.digits}`}
            >
              {safetyGroups(safety.digits).map((g, i) => (
                <span key={i}>{g}</span>
              ))}
            </div>
            {reusedUsernameWarning(contact) && (
              <p className="warning-text" data-testid="reused-username">
                {reusedUsernameWarning(contact)}
              </p>
            )}
            {accountStatus(contact) && <p className="muted">{accountStatus(contact)}.</p>}
            <p className="muted" data-testid="sealed-sender">
              Sealed sender: {contact?.sealedSender ? 'on' : 'off'}.{' '}
              {contact?.sealedSender
                ? 'The relay does not learn that your messages to them are from you.'
                : 'Your messages to them show the relay that they are from you, until they write to you.'}
            </p>
            {contact?.identityChanged && (
              <p className="warning-text">
                This safety number is new: {safety.username}’s key changed.
              </p>
            )}
            <div className="row row--center">
              {verified ? (
                <>
                  <span className="verified-badge" data-testid="verified">
                    ✓ Verified
                  </span>
                  <button
                    type="button"
                    className="button"
                    disabled={busy}
                    onClick={() => void setVerified(false)}
                  >
                    Clear verification
                  </button>
                </>
              ) : (
                <button
                  type="button"
                  className="button button--primary"
                  disabled={busy}
                  onClick={() => void setVerified(true)}
                >
                  Mark as verified
                </button>
              )}
            </div>
            <ErrorText error={error} />
          </section>
        )}
      </div>
    </div>
  );
}
