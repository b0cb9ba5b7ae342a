/**
 * Everyday screen behaviour (issue 16's web part): links, the character counter, the URL route
 * (Back/Forward/reload), the theme switch, unread count in the title and desktop notifications.
 */
import { act, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newArrivals } from '../lib/attention.ts';
import { MAX_MESSAGE_LENGTH } from '../lib/validate.ts';
import type { ConversationSummary } from '../model/types.ts';
import { hashToRoute, routeToHash, type Route } from './route.ts';
import { openChat, renderApp } from './test-support.tsx';

const setup = renderApp;

afterEach(() => {
  localStorage.clear();
  delete document.documentElement.dataset.theme;
  vi.unstubAllGlobals();
});

describe('links in messages', () => {
  it('makes http(s) links clickable, opened safely, and leaves other schemes as text', async () => {
    const model = setup();
    const bob = model.addContact('bob');
    act(() =>
      model.receive(
        `direct:${bob}`,
        bob,
        'see https://example.org/a?b=1 or www.example.com, not javascript:alert(1)',
      ),
    );
    await openChat('bob');
    const text = screen.getByTestId('message-text');
    const links = [...text.querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).toEqual([
      'https://example.org/a?b=1',
      'http://www.example.com',
    ]);
    for (const a of links) {
      expect(a.getAttribute('rel')).toBe('noopener noreferrer');
      expect(a.getAttribute('target')).toBe('_blank');
    }
    expect(text.textContent).toContain('javascript:alert(1)');
  });
});

describe('composer', () => {
  it('counts down near the limit and says why Send is off when over it', async () => {
    const model = setup();
    const bob = model.addContact('bob');
    act(() => model.receive(`direct:${bob}`, bob, 'hi'));
    await openChat('bob');
    const box = screen.getByLabelText('Message', { exact: true });
    fireEvent.change(box, { target: { value: 'short' } });
    expect(screen.queryByTestId('composer-counter')).toBeNull();
    fireEvent.change(box, { target: { value: 'x'.repeat(MAX_MESSAGE_LENGTH - 10) } });
    expect(screen.getByTestId('composer-counter').textContent).toBe('10 characters left');
    expect(screen.getByRole('button', { name: 'Send' })).toHaveProperty('disabled', false);
    fireEvent.change(box, { target: { value: 'x'.repeat(MAX_MESSAGE_LENGTH + 5) } });
    expect(screen.getByTestId('composer-counter').textContent).toBe(
      `5 characters over the limit of ${MAX_MESSAGE_LENGTH}`,
    );
    expect(screen.getByRole('button', { name: 'Send' })).toHaveProperty('disabled', true);
  });
});

describe('the URL names the screen', () => {
  it('round-trips every route and treats junk as home', () => {
    const routes: Route[] = [
      { name: 'home' },
      { name: 'chat', conversationId: 'direct:abc_DEF-1' },
      { name: 'chat', conversationId: 'group:a/b?c' },
      { name: 'group-info', groupId: 'g1' },
      { name: 'safety', accountId: 'acc', from: 'direct:acc' },
      { name: 'devices' },
      { name: 'settings' },
    ];
    for (const r of routes) expect(hashToRoute(routeToHash(r))).toEqual(r);
    for (const junk of ['', '#', '#/nope', '#/c', '#/c/%E0%A4%A', '#/c/a/b', '#/devices/x'])
      expect(hashToRoute(junk)).toEqual({ name: 'home' });
  });

  it('opening a conversation puts it in the URL, and the URL opens it', async () => {
    const model = setup();
    const bob = model.addContact('bob');
    act(() => model.receive(`direct:${bob}`, bob, 'hi'));
    await openChat('bob');
    expect(window.location.hash).toBe(`#/c/${encodeURIComponent(`direct:${bob}`)}`);
    fireEvent.click(screen.getByRole('button', { name: /Settings/ }));
    expect(window.location.hash).toBe('#/settings');
    // What Back does: the fragment changes and the app follows it.
    act(() => {
      window.location.hash = `#/c/${encodeURIComponent(`direct:${bob}`)}`;
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    });
    expect((await screen.findByTestId('conversation-title')).textContent).toBe('bob');
  });
});

describe('theme', () => {
  it('follows the system until a choice is made, and keeps the choice', () => {
    const model = setup();
    void model;
    fireEvent.click(screen.getByRole('button', { name: /Settings/ }));
    expect(document.documentElement.dataset.theme).toBeUndefined();
    fireEvent.click(screen.getByRole('radio', { name: 'Dark' }));
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(JSON.parse(localStorage.getItem('parley.preferences')!)).toMatchObject({
      theme: 'dark',
    });
    fireEvent.click(screen.getByRole('radio', { name: 'As the system' }));
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });
});

describe('attention', () => {
  const summary = (id: string, unread: number, direction: 'in' | 'out'): ConversationSummary => ({
    id,
    kind: 'direct',
    peer: id,
    title: id,
    lastMessage: { text: 't', direction },
    lastMessageAt: 1,
    unread,
  });

  it('notifies about conversations whose unread count grew with an incoming message', () => {
    const before = [summary('a', 0, 'in'), summary('b', 2, 'in')];
    const after = [summary('a', 1, 'in'), summary('b', 2, 'in'), summary('c', 0, 'out')];
    expect(newArrivals(before, after).map((c) => c.id)).toEqual(['a']);
  });

  it('shows the unread count in the title and notifies while hidden, if turned on', async () => {
    const shown: Array<{ title: string; body?: string; tag?: string }> = [];
    class FakeNotification {
      static permission: NotificationPermission = 'default';
      static requestPermission = vi.fn(async () => {
        FakeNotification.permission = 'granted';
        return 'granted' as const;
      });
      onclick: (() => void) | null = null;
      constructor(title: string, options: NotificationOptions = {}) {
        shown.push({ title, body: options.body, tag: options.tag });
      }
      close() {}
    }
    vi.stubGlobal('Notification', FakeNotification);
    const model = setup();
    const bob = model.addContact('bob');
    fireEvent.click(screen.getByRole('button', { name: /Settings/ }));
    fireEvent.click(screen.getByRole('radio', { name: 'Sender and message' }));
    await vi.waitFor(() => expect(FakeNotification.requestPermission).toHaveBeenCalled());

    act(() => model.receive(`direct:${bob}`, bob, 'while you look'));
    expect(document.title).toBe('(1) Parley');
    expect(shown).toEqual([]); // the tab is visible: no pop-up

    const hidden = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
    act(() => model.receive(`direct:${bob}`, bob, 'while you are away'));
    hidden.mockRestore();
    expect(document.title).toBe('(2) Parley');
    expect(shown).toEqual([{ title: 'bob', body: 'while you are away', tag: `direct:${bob}` }]);
  });
});
