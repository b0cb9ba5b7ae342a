import { useState } from 'react';
import { Icon } from '../components/Icon.tsx';
import { ErrorText } from '../components/States.tsx';
import { displayName } from '../lib/names.ts';
import { useAction, useChatModel, useModelState } from '../model/context.tsx';

/**
 * Shown in a conversation while a participant's identity key changed and the user has not
 * accepted it. It has no close button: sending stays blocked until the user either checks the
 * new safety number or explicitly confirms (two steps) that they accept the change.
 */
export function IdentityChangedNotice({
  accountId,
  onShowSafety,
}: {
  accountId: string;
  onShowSafety: () => void;
}) {
  const model = useChatModel();
  const state = useModelState();
  const name = displayName(state, accountId);
  const [confirming, setConfirming] = useState(false);
  const [accept, { busy, error }] = useAction(() => model.acceptIdentityChange(accountId));
  return (
    <div className="identity-notice" role="alert" data-testid="identity-notice">
      <Icon name="warning" size={22} />
      <div className="identity-notice__body">
        <strong>{name}’s safety number changed.</strong>
        <p>
          This can mean they reinstalled Parley or changed device — or that someone is trying to
          intercept your messages. Sending is paused until you check it.
        </p>
        {confirming ? (
          <div className="row">
            <span>Accept the new key for {name} without verifying?</span>
            <button
              type="button"
              className="button button--danger"
              disabled={busy}
              onClick={() => void accept()}
            >
              Yes, accept
            </button>
            <button type="button" className="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        ) : (
          <div className="row">
            <button type="button" className="button button--primary" onClick={onShowSafety}>
              Verify safety number
            </button>
            <button type="button" className="button" onClick={() => setConfirming(true)}>
              Accept new key…
            </button>
          </div>
        )}
        <ErrorText error={error} />
      </div>
    </div>
  );
}
