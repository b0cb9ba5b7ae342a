/**
 * The screen route kept in `location.hash`: navigating pushes a history entry (Back and Forward
 * move between screens instead of leaving the app), and a reload or a bookmark opens the same
 * screen.
 */
import { useCallback, useSyncExternalStore } from 'react';
import { hashToRoute, routeToHash, type Navigate, type Route } from '../screens/route.ts';

// `hashchange` fires a task later; our own navigation re-renders at once instead.
const listeners = new Set<() => void>();

function subscribe(onChange: () => void): () => void {
  listeners.add(onChange);
  window.addEventListener('hashchange', onChange);
  return () => {
    listeners.delete(onChange);
    window.removeEventListener('hashchange', onChange);
  };
}

const currentFragment = () => window.location.hash;

let cached: { fragment: string; route: Route } | undefined;
function currentRoute(): Route {
  const fragment = currentFragment();
  if (cached === undefined || cached.fragment !== fragment) {
    cached = { fragment, route: hashToRoute(fragment) };
  }
  return cached.route;
}

export function useHashRoute(): [Route, Navigate] {
  const route = useSyncExternalStore(subscribe, currentRoute, currentRoute);
  const navigate = useCallback<Navigate>((next) => {
    const fragment = routeToHash(next);
    if (fragment === (currentFragment() || '#/')) return;
    window.location.hash = fragment;
    for (const listener of listeners) listener();
  }, []);
  return [route, navigate];
}
