/**
 * Where the main pane is, and how that is written in the URL's fragment (`#/c/<id>`, …): Back,
 * Forward, reload and a bookmarked conversation work. The fragment never reaches the relay (a
 * browser does not send it), so no conversation id lands in a server log; it does stay in this
 * browser's history, like any chat app's URL.
 */
export type Route =
  | { name: 'home' }
  | { name: 'chat'; conversationId: string }
  | { name: 'group-info'; groupId: string }
  | { name: 'safety'; accountId: string; from: string }
  | { name: 'devices' }
  | { name: 'settings' };

export type Navigate = (route: Route) => void;

const enc = encodeURIComponent;

export function routeToHash(route: Route): string {
  switch (route.name) {
    case 'home':
      return '#/';
    case 'chat':
      return `#/c/${enc(route.conversationId)}`;
    case 'group-info':
      return `#/g/${enc(route.groupId)}/info`;
    case 'safety':
      return `#/safety/${enc(route.accountId)}?from=${enc(route.from)}`;
    case 'devices':
      return '#/devices';
    case 'settings':
      return '#/settings';
  }
}

/** The route a fragment names; anything unknown or malformed is home. */
export function hashToRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?', 2);
  const parts = path.split('/').filter(Boolean);
  try {
    const arg = (i: number) => decodeURIComponent(parts[i] ?? '');
    if (parts[0] === 'c' && parts.length === 2) return { name: 'chat', conversationId: arg(1) };
    if (parts[0] === 'g' && parts.length === 3 && parts[2] === 'info')
      return { name: 'group-info', groupId: arg(1) };
    if (parts[0] === 'safety' && parts.length === 2) {
      const from = new URLSearchParams(query).get('from') ?? '';
      return { name: 'safety', accountId: arg(1), from };
    }
    if (parts.length === 1 && parts[0] === 'devices') return { name: 'devices' };
    if (parts.length === 1 && parts[0] === 'settings') return { name: 'settings' };
  } catch {
    // A malformed escape (`%E0%A4%A`): fall through to home.
  }
  return { name: 'home' };
}
