import { useEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { Icon } from '../components/Icon.tsx';
import { TypingSignal } from '../lib/typing.ts';
import { MAX_MESSAGE_LENGTH } from '../lib/validate.ts';
import { displayName } from '../lib/names.ts';
import { errorMessage, useChatModel, useModelState } from '../model/context.tsx';
import type { Draft } from './MessageActions.tsx';
import { AttachButton } from './FileDrop.tsx';

/** The counter shows once fewer characters than this are left. */
const COUNTER_FROM = 200;

export function Composer({
  conversationId,
  disabled,
  draft,
  onDraftDone = () => {},
  onFiles,
}: {
  conversationId: string;
  disabled: boolean;
  /** Files chosen with the attach button (absent: no attach button). */
  onFiles?: (files: readonly File[]) => void;
  /** Replying to, or editing, an earlier message. */
  draft?: Draft;
  onDraftDone?: () => void;
}) {
  const model = useChatModel();
  const state = useModelState();
  const [text, setText] = useState('');
  const [error, setError] = useState<string>();
  const input = useRef<HTMLTextAreaElement>(null);
  const typing = useMemo(
    () => new TypingSignal((t) => model.setTyping(conversationId, t)),
    [model, conversationId],
  );
  useEffect(() => () => typing.stop(), [typing]);
  useEffect(() => {
    if (!disabled) input.current?.focus();
  }, [conversationId, disabled, draft]);
  // Editing starts from the message's text.
  useEffect(() => {
    if (draft?.kind === 'edit') setText(draft.message.text ?? '');
  }, [draft]);

  const send = (e?: FormEvent) => {
    e?.preventDefault();
    const body = text.trim();
    if (body === '' || disabled) return;
    typing.stop();
    setText('');
    setError(undefined);
    onDraftDone();
    const fail = (err: unknown) => setError(errorMessage(err));
    if (draft?.kind === 'edit') {
      model.editMessage(conversationId, draft.message.id, body).catch(fail);
      return;
    }
    // The message is stored before it goes out and shows in the list with its state; the
    // composer is never refilled (pressing Enter again would send it twice).
    model
      .sendText(conversationId, body, draft?.kind === 'reply' ? { replyTo: draft.message.id } : {})
      .catch(fail);
  };
  const cancelDraft = () => {
    if (draft?.kind === 'edit') setText('');
    onDraftDone();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) send(e);
    if (e.key === 'Escape' && draft) cancelDraft();
  };
  const draftAuthor =
    draft && draft.message.senderAccountId !== state.me?.accountId
      ? displayName(state, draft.message.senderAccountId)
      : 'yourself';
  const tooLong = text.length > MAX_MESSAGE_LENGTH;
  // Near the limit the composer says how much room is left, so Send never just goes grey.
  const left = MAX_MESSAGE_LENGTH - text.length;
  const counter =
    left < COUNTER_FROM
      ? left >= 0
        ? `${left} characters left`
        : `${-left} characters over the limit of ${MAX_MESSAGE_LENGTH}`
      : undefined;

  return (
    <form className="composer" onSubmit={send}>
      {draft && (
        <div className="composer__draft" data-testid="composer-draft">
          <span className="composer__draft-text">
            {draft.kind === 'edit' ? 'Editing your message' : `Replying to ${draftAuthor}`}:{' '}
            <q>{draft.message.text}</q>
          </span>
          <button type="button" className="link-button" onClick={cancelDraft}>
            Cancel
          </button>
        </div>
      )}
      {error && (
        <p className="error-text composer__error" role="alert">
          {error}
        </p>
      )}
      {onFiles && <AttachButton onFiles={onFiles} disabled={disabled} />}
      <textarea
        ref={input}
        className="composer__input"
        aria-label="Message"
        placeholder={
          disabled ? 'Review the safety number change above to keep chatting' : 'Message'
        }
        rows={1}
        value={text}
        disabled={disabled}
        maxLength={MAX_MESSAGE_LENGTH + 100}
        onChange={(e) => {
          setText(e.target.value);
          typing.input(e.target.value);
        }}
        onKeyDown={onKeyDown}
        aria-describedby={counter ? 'composer-counter' : undefined}
        aria-invalid={tooLong || undefined}
      />
      {counter && (
        <span
          id="composer-counter"
          className={tooLong ? 'composer__counter composer__counter--over' : 'composer__counter'}
          data-testid="composer-counter"
          aria-live="polite"
        >
          {counter}
        </span>
      )}
      <button
        type="submit"
        className="send-button"
        aria-label="Send"
        disabled={disabled || text.trim() === '' || tooLong}
      >
        <Icon name="send" />
      </button>
    </form>
  );
}
