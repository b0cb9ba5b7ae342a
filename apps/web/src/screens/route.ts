/** Where the main pane is. Kept in memory (never in the URL). */
export type Route =
  | { name: 'home' }
  | { name: 'chat'; conversationId: string }
  | { name: 'group-info'; groupId: string }
  | { name: 'safety'; accountId: string; from: string }
  | { name: 'devices' }
  | { name: 'settings' };

export type Navigate = (route: Route) => void;
