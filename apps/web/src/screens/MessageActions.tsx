/**
 * What a person can do to a message in the list: reply, react (one emoji each), edit and delete
 * their own within 24 hours, delete for themselves; plus how a reply's quote and the reactions
 * are shown. Every control is a button, so all of it works from the keyboard.
 */
import { useEffect, useRef, useState } from 'react';
import { displayName } from '../lib/names.ts';
import { useAction, useChatModel, useModelState } from '../model/context.tsx';
import type { Message } from '../model/types.ts';

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];
/** The same window the client core enforces (24 hours). */
const CHANGE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** What the composer is doing with an earlier message. */
export type Draft = { kind: 'reply' | 'edit'; message: Message };

export function canChange(m: Message, now = Date.now()): boolean {
  return m.direction === 'out' && !m.deleted && now - m.timestamp < CHANGE_WINDOW_MS;
}

export function MessageMenu({
  message,
  onDraft,
}: {
  message: Message;
  onDraft: (draft: Draft) => void;
}) {
  const model = useChatModel();
  const state = useModelState();
  const [open, setOpen] = useState(false);
  const menu = useRef<HTMLDivElement>(null);
  const [run, status] = useAction(async (change: () => Promise<void>) => {
    await change();
    setOpen(false);
  });
  useEffect(() => {
    if (open) menu.current?.querySelector('button')?.focus();
  }, [open]);
  const mine = state.me ? message.reactions?.[state.me.accountId] : undefined;
  const { conversationId, id } = message;
  return (
    <div className="message-menu">
      <button
        type="button"
        className="message-menu__toggle"
        aria-label="Message actions"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
      >
        ⋯
      </button>
      {open && (
        <div
          ref={menu}
          className="message-menu__panel"
          role="menu"
          onKeyDown={(e) => {
            if (e.key === 'Escape') setOpen(false);
          }}
        >
          <div className="message-menu__reactions" role="group" aria-label="React">
            {QUICK_REACTIONS.map((emoji) => (
              <button
                key={emoji}
                type="button"
                role="menuitemcheckbox"
                aria-checked={mine === emoji}
                aria-label={`React ${emoji}`}
                disabled={status.busy}
                onClick={() =>
                  void run(() => model.react(conversationId, id, mine === emoji ? null : emoji))
                }
              >
                {emoji}
              </button>
            ))}
          </div>
          <button
            type="button"
            role="menuitem"
            onClick={() => {
              setOpen(false);
              onDraft({ kind: 'reply', message });
            }}
          >
            Reply
          </button>
          {canChange(message) && (
            <button
              type="button"
              role="menuitem"
              onClick={() => {
                setOpen(false);
                onDraft({ kind: 'edit', message });
              }}
            >
              Edit
            </button>
          )}
          <button
            type="button"
            role="menuitem"
            disabled={status.busy}
            onClick={() => void run(() => model.deleteForMe(conversationId, id))}
          >
            Delete for me
          </button>
          {canChange(message) && (
            <button
              type="button"
              role="menuitem"
              disabled={status.busy}
              onClick={() => void run(() => model.deleteForEveryone(conversationId, id))}
            >
              Delete for everyone
            </button>
          )}
          {status.error && <p className="error-text">{status.error}</p>}
        </div>
      )}
    </div>
  );
}

/** The quoted message at the top of a reply; activating it scrolls to the original. */
export function QuoteBlock({ message, all }: { message: Message; all: readonly Message[] }) {
  const state = useModelState();
  const quote = message.quote!;
  const original = all.find((m) => m.id === quote.id);
  const author =
    quote.authorAccountId === state.me?.accountId
      ? 'You'
      : displayName(state, quote.authorAccountId);
  const text = quote.gone
    ? 'The original message disappeared.'
    : original?.deleted
      ? 'The original message was deleted.'
      : original
        ? (original.text ?? '')
        : quote.text;
  return (
    <button
      type="button"
      className="quote"
      data-testid="quote"
      aria-label={`Reply to ${author}: ${text}`}
      onClick={() => {
        const el = document.getElementById(`msg-${quote.id}`);
        el?.scrollIntoView({ block: 'center', behavior: 'smooth' });
        el?.focus();
      }}
    >
      <span className="quote__author">{author}</span>
      <span className="quote__text">{text}</span>
      {!original && !quote.gone && (
        <span className="quote__missing">The original message is not on this device.</span>
      )}
    </button>
  );
}

/** The reactions under a message: each emoji with its count; who reacted on hover and to screen readers. */
export function ReactionsRow({ message }: { message: Message }) {
  const model = useChatModel();
  const state = useModelState();
  const [run] = useAction((emoji: string | null) =>
    model.react(message.conversationId, message.id, emoji),
  );
  const byEmoji = new Map<string, string[]>();
  for (const [accountId, emoji] of Object.entries(message.reactions ?? {})) {
    byEmoji.set(emoji, [...(byEmoji.get(emoji) ?? []), accountId]);
  }
  if (byEmoji.size === 0) return null;
  const me = state.me?.accountId;
  const name = (id: string) => (id === me ? 'you' : displayName(state, id));
  return (
    <div className="reactions" data-testid="reactions">
      {[...byEmoji].map(([emoji, ids]) => {
        const who = ids.map(name).join(', ');
        const mine = me !== undefined && ids.includes(me);
        return (
          <button
            key={emoji}
            type="button"
            className={mine ? 'reaction reaction--mine' : 'reaction'}
            title={who}
            aria-label={`${emoji} ${ids.length}: ${who}`}
            aria-pressed={mine}
            onClick={() => void run(mine ? null : emoji)}
          >
            {emoji} <span className="reaction__count">{ids.length}</span>
          </button>
        );
      })}
    </div>
  );
}
