import { useState, type FormEvent } from 'react';
import { Avatar } from '../components/Avatar.tsx';
import { PageHeader } from '../components/PageHeader.tsx';
import { EmptyState, ErrorText } from '../components/States.tsx';
import { parseUsernames, usernameProblem } from '../lib/validate.ts';
import { useAction, useChatModel, useModelState } from '../model/context.tsx';
import { isGroupAdmin } from '../model/trust.ts';
import type { Navigate } from './route.ts';

export function GroupInfo({ groupId, navigate }: { groupId: string; navigate: Navigate }) {
  const model = useChatModel();
  const state = useModelState();
  const group = state.groups[groupId];
  const back = () => navigate({ name: 'chat', conversationId: `group:${groupId}` });
  const [title, setTitle] = useState(group?.title ?? '');
  const [adding, setAdding] = useState('');
  const [problem, setProblem] = useState<string>();
  const [confirmLeave, setConfirmLeave] = useState(false);
  const [rename, renameState] = useAction((t: string) => model.renameGroup(groupId, t));
  const [add, addState] = useAction(async (names: string[]) => {
    await model.addMembers(groupId, names);
    return true;
  });
  const [remove, removeState] = useAction((id: string) => model.removeMember(groupId, id));
  const [leave, leaveState] = useAction(() => model.leaveGroup(groupId));
  const [promote, promoteState] = useAction((id: string) => model.makeAdmin(groupId, id));
  // Only admins change the group (the core refuses anyone else, and every member ignores it).
  const admin = isGroupAdmin(state, groupId);
  const adminTag = (accountId: string) =>
    group?.admins?.includes(accountId) ? <span className="admin-tag">Admin</span> : null;

  if (!group) {
    return (
      <div className="page">
        <PageHeader title="Group" onBack={() => navigate({ name: 'home' })} />
        <EmptyState title="This group is not on this device." />
      </div>
    );
  }
  const submitAdd = async (e: FormEvent) => {
    e.preventDefault();
    const names = parseUsernames(adding);
    const bad = names.find((n) => usernameProblem(n));
    setProblem(
      names.length === 0
        ? 'Type a username.'
        : bad
          ? `“${bad}” is not a valid username.`
          : undefined,
    );
    if (names.length === 0 || bad) return;
    if (await add(names)) setAdding('');
  };
  return (
    <div className="page">
      <PageHeader title="Group info" onBack={back} />
      <div className="page__content">
        <section className="card">
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              if (title.trim()) void rename(title.trim());
            }}
          >
            <label className="field grow">
              <span className="field__label">Group name</span>
              <input
                value={title}
                maxLength={64}
                disabled={group.left || !admin}
                onChange={(e) => setTitle(e.target.value)}
              />
            </label>
            <button
              type="submit"
              className="button"
              disabled={group.left || !admin || renameState.busy || title.trim() === group.title}
            >
              Rename
            </button>
          </form>
          <ErrorText error={renameState.error} />
          {!group.left && !admin && (
            <p className="muted">Only admins can rename the group and add or remove members.</p>
          )}
        </section>
        <section className="card">
          <h3>{group.members.length + (group.left ? 0 : 1)} members</h3>
          <ul className="list" aria-label="Members">
            {!group.left && state.me && (
              <li className="list__item">
                <Avatar name={state.me.username} seed={state.me.accountId} size="sm" />
                <span className="grow">
                  {state.me.username} <span className="muted">(you)</span>
                </span>
                {adminTag(state.me.accountId)}
              </li>
            )}
            {group.members.map((m) => (
              <li key={m.accountId} className="list__item" data-testid="member">
                <Avatar name={m.username} seed={m.accountId} size="sm" />
                <span className="grow">{m.username}</span>
                {adminTag(m.accountId)}
                {!group.left && admin && !group.admins?.includes(m.accountId) && (
                  <button
                    type="button"
                    className="button button--ghost"
                    disabled={promoteState.busy}
                    onClick={() => void promote(m.accountId)}
                    aria-label={`Make ${m.username} admin`}
                  >
                    Make admin
                  </button>
                )}
                {!group.left && admin && (
                  <button
                    type="button"
                    className="button button--ghost-danger"
                    disabled={removeState.busy}
                    onClick={() => void remove(m.accountId)}
                    aria-label={`Remove ${m.username}`}
                  >
                    Remove
                  </button>
                )}
              </li>
            ))}
          </ul>
          <ErrorText error={removeState.error ?? promoteState.error} />
          {!group.left && admin && (
            <form className="row" onSubmit={(e) => void submitAdd(e)} noValidate>
              <label className="field grow">
                <span className="field__label">Add members</span>
                <input
                  autoCapitalize="none"
                  spellCheck={false}
                  placeholder="username"
                  value={adding}
                  onChange={(e) => setAdding(e.target.value)}
                />
              </label>
              <button type="submit" className="button" disabled={addState.busy}>
                Add
              </button>
            </form>
          )}
          <ErrorText error={problem ?? addState.error} />
        </section>
        {!group.left && (
          <section className="card">
            {confirmLeave ? (
              <div className="row">
                <span className="grow">
                  Leave “{group.title}”? You will stop receiving its messages.
                </span>
                <button type="button" className="button" onClick={() => setConfirmLeave(false)}>
                  Cancel
                </button>
                <button
                  type="button"
                  className="button button--danger"
                  disabled={leaveState.busy}
                  onClick={() => void leave()}
                >
                  Leave
                </button>
              </div>
            ) : (
              <button
                type="button"
                className="button button--ghost-danger"
                onClick={() => setConfirmLeave(true)}
              >
                Leave group…
              </button>
            )}
            <ErrorText error={leaveState.error} />
          </section>
        )}
      </div>
    </div>
  );
}
