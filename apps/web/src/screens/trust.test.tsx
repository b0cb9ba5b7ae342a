/** Message requests, blocking and group admins on screen, against the in-memory model. */
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { openChat, renderApp } from './test-support.tsx';

const setup = renderApp;

describe('message requests', () => {
  it('shows a request with Accept / Delete / Block instead of the composer', async () => {
    const model = setup();
    model.addContact('bob');
    model.receive('direct:acc-bob', 'acc-bob', 'hello stranger');
    model.setRequest('direct:acc-bob', true);
    expect(await screen.findByText('Request')).toBeTruthy();
    await openChat('bob');
    const bar = screen.getByRole('region', { name: 'Message request' });
    expect(bar.textContent).toMatch(/bob wants to message you/);
    expect(screen.queryByLabelText('Message')).toBeNull();
    fireEvent.click(within(bar).getByRole('button', { name: 'Accept' }));
    expect(await screen.findByLabelText('Message')).toBeTruthy();
    expect(model.calls).toContainEqual(['acceptRequest', 'direct:acc-bob']);
  });

  it('deletes a request and goes back to the list', async () => {
    const model = setup();
    model.addContact('spam');
    model.receive('direct:acc-spam', 'acc-spam', 'buy now');
    model.setRequest('direct:acc-spam', true);
    await openChat('spam');
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(model.calls).toContainEqual(['deleteRequest', 'direct:acc-spam']));
    await waitFor(() => expect(screen.queryByTestId('conversation-item')).toBeNull());
  });
});

describe('blocking', () => {
  it('blocks from the conversation header and unblocks from the bar', async () => {
    const model = setup();
    model.addContact('bob');
    model.receive('direct:acc-bob', 'acc-bob', 'hi');
    await openChat('bob');
    fireEvent.click(screen.getByRole('button', { name: 'Block' }));
    const bar = await screen.findByRole('region', { name: 'Blocked' });
    expect(bar.textContent).toMatch(/You blocked bob/);
    expect(screen.queryByLabelText('Message')).toBeNull();
    fireEvent.click(within(bar).getByRole('button', { name: 'Unblock' }));
    expect(await screen.findByLabelText('Message')).toBeTruthy();
    expect(model.calls).toEqual(
      expect.arrayContaining([
        ['setBlocked', 'acc-bob', true],
        ['setBlocked', 'acc-bob', false],
      ]),
    );
  });
});

describe('group admins', () => {
  it('offers changes only to admins, and lets an admin make others admins', async () => {
    const model = setup();
    model.addContact('bob');
    model.addContact('carol');
    const conv = await model.createGroup('Trip', ['bob', 'carol']);
    const groupId = conv.slice('group:'.length);
    const me = model.getState().me!.accountId;
    const setAdmins = (admins: string[]) =>
      model.update((s) => ({
        groups: { ...s.groups, [groupId]: { ...s.groups[groupId]!, admins } },
      }));
    setAdmins(['acc-bob']);
    model.receive(conv, 'acc-bob', 'hello group');
    await openChat('Trip');
    fireEvent.click(screen.getByRole('button', { name: /Group info/ }));
    expect(await screen.findByText(/Only admins can rename the group/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: /^Remove / })).toBeNull();
    expect(screen.queryByRole('button', { name: /^Make / })).toBeNull();
    expect((screen.getByRole('button', { name: 'Rename' }) as HTMLButtonElement).disabled).toBe(
      true,
    );

    setAdmins([me]);
    fireEvent.click(await screen.findByRole('button', { name: 'Make bob admin' }));
    await waitFor(() => expect(model.calls).toContainEqual(['makeAdmin', groupId, 'acc-bob']));
    const bob = screen.getAllByTestId('member').find((el) => el.textContent?.includes('bob'))!;
    await waitFor(() => expect(bob.textContent).toMatch(/Admin/));
    expect(screen.getByRole('button', { name: 'Remove carol' })).toBeTruthy();
  });
});
