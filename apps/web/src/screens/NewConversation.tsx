import { useState, type FormEvent } from 'react';
import { Dialog } from '../components/Dialog.tsx';
import { ErrorText } from '../components/States.tsx';
import { parseUsernames, usernameProblem } from '../lib/validate.ts';
import { useAction, useChatModel } from '../model/context.tsx';

export function NewChatDialog({
  onClose,
  onStarted,
}: {
  onClose: () => void;
  onStarted: (id: string) => void;
}) {
  const model = useChatModel();
  const [username, setUsername] = useState('');
  const [problem, setProblem] = useState<string>();
  const [start, { busy, error }] = useAction((u: string) => model.startDirect(u));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const name = username.trim().replace(/^@/, '');
    const p = usernameProblem(name);
    setProblem(p);
    if (p) return;
    const id = await start(name);
    if (id) onStarted(id);
  };
  return (
    <Dialog title="New chat" onClose={onClose}>
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        <label className="field">
          <span className="field__label">Username</span>
          <input
            autoFocus
            autoCapitalize="none"
            spellCheck={false}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            placeholder="e.g. alice"
          />
        </label>
        <ErrorText error={problem ?? error} />
        <div className="row row--end">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button--primary" disabled={busy}>
            {busy ? 'Looking up…' : 'Start chat'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function NewGroupDialog({
  onClose,
  onStarted,
}: {
  onClose: () => void;
  onStarted: (id: string) => void;
}) {
  const model = useChatModel();
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState('');
  const [problem, setProblem] = useState<string>();
  const [create, { busy, error }] = useAction((t: string, m: string[]) => model.createGroup(t, m));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const names = parseUsernames(members);
    const bad = names.find((n) => usernameProblem(n));
    const p =
      title.trim() === ''
        ? 'Give the group a name.'
        : names.length === 0
          ? 'Add at least one member.'
          : bad
            ? `“${bad}” is not a valid username.`
            : undefined;
    setProblem(p);
    if (p) return;
    const id = await create(title.trim(), names);
    if (id) onStarted(id);
  };
  return (
    <Dialog title="New group" onClose={onClose}>
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        <label className="field">
          <span className="field__label">Group name</span>
          <input
            autoFocus
            value={title}
            maxLength={64}
            onChange={(e) => setTitle(e.target.value)}
          />
        </label>
        <div className="field">
          <label className="field">
            <span className="field__label">Members</span>
            <input
              autoCapitalize="none"
              spellCheck={false}
              value={members}
              onChange={(e) => setMembers(e.target.value)}
              placeholder="bob, carol"
              aria-describedby="members-hint"
            />
          </label>
          <span id="members-hint" className="field__hint">
            Usernames, separated by commas or spaces.
          </span>
        </div>
        <ErrorText error={problem ?? error} />
        <div className="row row--end">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button--primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create group'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
