import { useModelState } from '../model/context.tsx';

/**
 * Next to a direct conversation's name in the list: "deleted" when the account was deleted,
 * "renamed" when its username is now someone else's, so an old chat never passes for the
 * name's current owner.
 */
export function AccountStatusPill({ conversationId }: { conversationId: string }) {
  const contacts = useModelState().contacts;
  if (!conversationId.startsWith('direct:')) return null;
  const contact = contacts[conversationId.slice('direct:'.length)];
  const label = contact?.deleted ? 'deleted' : contact?.formerUsername ? 'renamed' : undefined;
  if (!label) return null;
  return (
    <span className="pill" data-testid="account-status">
      {label}
    </span>
  );
}
