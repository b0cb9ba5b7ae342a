import { ErrorText } from '../components/States.tsx';
import { displayName } from '../lib/names.ts';
import { useAction, useChatModel, useModelState } from '../model/context.tsx';
import { trustOf } from '../model/trust.ts';

/**
 * In place of the composer while a conversation is a message request: who it is from, and
 * Accept / Delete / Block. Until the user accepts, the sender sees nothing of them beyond
 * delivery (no read receipts, no typing).
 */
export function RequestBar({
  conversationId,
  onGone,
}: {
  conversationId: string;
  /** The request was deleted (or a group request blocked and left): leave the screen. */
  onGone: () => void;
}) {
  const model = useChatModel();
  const state = useModelState();
  const isGroup = conversationId.startsWith('group:');
  const group = isGroup ? state.groups[conversationId.slice('group:'.length)] : undefined;
  const from = isGroup ? group?.invitedBy : conversationId.slice('direct:'.length);
  const name = from ? displayName(state, from) : 'Someone';
  const [accept, acceptState] = useAction(() => model.acceptRequest(conversationId));
  const [remove, removeState] = useAction(async () => {
    await model.deleteRequest(conversationId);
    onGone();
  });
  const [block, blockState] = useAction(async () => {
    await model.blockRequest(conversationId);
    if (isGroup) onGone();
  });
  const busy = acceptState.busy || removeState.busy || blockState.busy;
  return (
    <div className="request-bar" role="region" aria-label="Message request">
      <p>
        {isGroup ? (
          <>
            <strong>{name}</strong> added you to “{group?.title ?? 'a group'}”.
          </>
        ) : (
          <>
            <strong>{name}</strong> wants to message you.
          </>
        )}{' '}
        They will not know you have read their messages until you accept.
      </p>
      <div className="row">
        <button
          type="button"
          className="button button--danger"
          disabled={busy}
          onClick={() => void block()}
        >
          Block
        </button>
        <button type="button" className="button" disabled={busy} onClick={() => void remove()}>
          Delete
        </button>
        <button
          type="button"
          className="button button--primary"
          disabled={busy}
          onClick={() => void accept()}
        >
          Accept
        </button>
      </div>
      <ErrorText error={acceptState.error ?? removeState.error ?? blockState.error} />
    </div>
  );
}

/** In place of the composer in a blocked contact's conversation. */
export function BlockedBar({ accountId }: { accountId: string }) {
  const model = useChatModel();
  const state = useModelState();
  const [unblock, { busy, error }] = useAction(() => model.setBlocked(accountId, false));
  return (
    <div className="request-bar" role="region" aria-label="Blocked">
      <p>
        You blocked <strong>{displayName(state, accountId)}</strong>. You will not receive their
        messages, and they are not told.
      </p>
      <div className="row">
        <button type="button" className="button" disabled={busy} onClick={() => void unblock()}>
          Unblock
        </button>
      </div>
      <ErrorText error={error} />
    </div>
  );
}

/** Header button of a direct conversation: Block, or Unblock. */
export function BlockButton({ conversationId }: { conversationId: string }) {
  const model = useChatModel();
  const state = useModelState();
  const { peer, blocked } = trustOf(state, conversationId);
  const [toggle, { busy }] = useAction(() => model.setBlocked(peer!, !blocked));
  if (!peer) return null;
  return (
    <button
      type="button"
      className="button button--ghost-danger"
      disabled={busy}
      onClick={() => void toggle()}
    >
      {blocked ? 'Unblock' : 'Block'}
    </button>
  );
}
