/**
 * Telling the user something arrived while they look elsewhere: the unread count in the tab
 * title and as a badge on the favicon, and a desktop notification per new message while the
 * tab is hidden (if they turned notifications on in Settings and the browser allowed them).
 */
import { useEffect, useRef } from 'react';
import type { Navigate } from '../screens/route.ts';
import type { ConversationSummary, ModelState } from '../model/types.ts';
import { preferences } from './preferences.ts';

const TITLE = 'Parley';

export function unreadTotal(conversations: readonly ConversationSummary[]): number {
  return conversations.reduce((sum, c) => sum + c.unread, 0);
}

/** What to notify about: conversations whose unread count grew with an incoming message. */
export function newArrivals(
  before: readonly ConversationSummary[],
  after: readonly ConversationSummary[],
): ConversationSummary[] {
  const seen = new Map(before.map((c) => [c.id, c.unread]));
  return after.filter((c) => c.lastMessage?.direction === 'in' && c.unread > (seen.get(c.id) ?? 0));
}

export function useAttention(state: ModelState, navigate: Navigate): void {
  const total = unreadTotal(state.conversations);
  useEffect(() => {
    document.title = total > 0 ? `(${total}) ${TITLE}` : TITLE;
    return drawBadge(total);
  }, [total]);

  const previous = useRef<readonly ConversationSummary[] | undefined>(undefined);
  useEffect(() => {
    const before = previous.current;
    previous.current = state.conversations;
    // The first snapshot is the backlog already shown in the list: nothing to pop up.
    if (!before || document.visibilityState !== 'hidden') return;
    for (const c of newArrivals(before, state.conversations)) notify(c, navigate);
  }, [state.conversations, navigate]);
}

function notify(c: ConversationSummary, navigate: Navigate): void {
  const choice = preferences().notifications;
  if (choice === 'off' || typeof Notification === 'undefined') return;
  if (Notification.permission !== 'granted') return;
  const last = c.lastMessage;
  const body =
    choice === 'private'
      ? 'New message'
      : `${c.kind === 'group' && last?.senderName ? `${last.senderName}: ` : ''}${last?.text ?? ''}`;
  // One notification per conversation (the tag replaces the previous one), also across tabs.
  const n = new Notification(choice === 'private' ? TITLE : c.title, { body, tag: c.id });
  n.onclick = () => {
    window.focus();
    navigate({ name: 'chat', conversationId: c.id });
    n.close();
  };
}

let badgeUrl: string | undefined;

/** The favicon with a red count badge (a `blob:` image: the CSP allows no `data:`). */
function drawBadge(count: number): () => void {
  const link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) return () => {};
  link.dataset.plain ??= link.href;
  if (count === 0) {
    link.href = link.dataset.plain;
    link.type = 'image/svg+xml';
    delete link.dataset.badge;
    return () => {};
  }
  let cancelled = false;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 64;
  const ctx = canvas.getContext('2d');
  const icon = new Image();
  icon.onload = () => {
    if (cancelled || !ctx) return;
    ctx.drawImage(icon, 0, 0, 64, 64);
    ctx.fillStyle = '#d1283b';
    ctx.beginPath();
    ctx.arc(44, 20, 20, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = '#fff';
    ctx.font = 'bold 26px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(count > 99 ? '99+' : String(count), 44, 21);
    canvas.toBlob((blob) => {
      if (cancelled || !blob) return;
      if (badgeUrl) URL.revokeObjectURL(badgeUrl);
      badgeUrl = URL.createObjectURL(blob);
      link.type = 'image/png';
      link.href = badgeUrl;
      link.dataset.badge = String(count);
    });
  };
  icon.src = link.dataset.plain;
  return () => {
    cancelled = true;
  };
}
