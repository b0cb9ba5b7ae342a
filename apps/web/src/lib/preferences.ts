/**
 * This browser's display preferences (theme, desktop notifications), kept in localStorage: they
 * are about this device's screen, hold nothing secret and are not synced.
 */
import { useSyncExternalStore } from 'react';

export type ThemeChoice = 'system' | 'light' | 'dark';
/** `private`: notify, but say only "New message" (no sender text on the lock screen). */
export type NotificationChoice = 'off' | 'on' | 'private';

export interface Preferences {
  theme: ThemeChoice;
  notifications: NotificationChoice;
}

const KEY = 'parley.preferences';
const DEFAULTS: Preferences = { theme: 'system', notifications: 'off' };
const listeners = new Set<() => void>();
let current: Preferences | undefined;

function read(): Preferences {
  try {
    const raw = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Preferences>;
    return {
      theme: ['system', 'light', 'dark'].includes(raw.theme ?? '') ? raw.theme! : DEFAULTS.theme,
      notifications: ['off', 'on', 'private'].includes(raw.notifications ?? '')
        ? raw.notifications!
        : DEFAULTS.notifications,
    };
  } catch {
    return DEFAULTS;
  }
}

export function preferences(): Preferences {
  current ??= read();
  return current;
}

export function setPreferences(change: Partial<Preferences>): void {
  current = { ...preferences(), ...change };
  try {
    localStorage.setItem(KEY, JSON.stringify(current));
  } catch {
    // Storage full or disabled: the choice holds for this session.
  }
  applyTheme(current.theme);
  for (const listener of listeners) listener();
}

/** `data-theme` on <html>; absent means "as the system prefers" (styles.css). */
export function applyTheme(theme: ThemeChoice = preferences().theme): void {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function usePreferences(): Preferences {
  return useSyncExternalStore(subscribe, preferences, preferences);
}
