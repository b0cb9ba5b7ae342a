import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { openChat, renderApp } from './test-support.tsx';

const setup = renderApp;

describe('onboarding', () => {
  it('validates the username before registering, then shows the chats', async () => {
    const model = setup('welcome');
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText('Choose a username.')).toBeTruthy();
    expect(model.calls).toEqual([]);
    fireEvent.change(screen.getByLabelText('Username'), { target: { value: 'alice' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByTestId('my-username')).toHaveProperty('textContent', 'alice');
    expect(screen.getByText('No conversations yet')).toBeTruthy();
  });

  it('shows the relay’s refusal', async () => {
    setup('welcome');
    fireEvent.change(screen.getByLabelText('Username'), { target: { value: 'taken' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/taken/);
  });

  it('shows a link code as text and QR code', async () => {
    setup('welcome');
    fireEvent.click(screen.getByRole('tab', { name: /Link to my account/ }));
    const code = (await screen.findByTestId('link-code')) as HTMLInputElement;
    expect(code.value).toMatch(/^parley:\/\/link\?/);
    expect(screen.getByRole('img', { name: /QR code/ })).toBeTruthy();
  });
});

describe('lock screen', () => {
  it('rejects a wrong passphrase and unlocks with the right one', async () => {
    const model = setup('locked');
    model.passphrase = 'open sesame';
    fireEvent.change(screen.getByLabelText('Passphrase'), { target: { value: 'nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/Wrong/);
    fireEvent.change(screen.getByLabelText('Passphrase'), { target: { value: 'open sesame' } });
    fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
    expect(await screen.findByTestId('my-username')).toBeTruthy();
  });
});

describe('conversations', () => {
  it('lists conversations with preview and unread count, newest first', () => {
    const model = setup();
    const bob = model.addContact('bob');
    const carol = model.addContact('carol');
    act(() => {
      model.receive(`direct:${bob}`, bob, 'hi from bob', Date.now() - 60_000);
      model.receive(`direct:${carol}`, carol, 'one', Date.now() - 1000);
      model.receive(`direct:${carol}`, carol, 'two');
    });
    const items = screen.getAllByTestId('conversation-item');
    expect(
      items.map(
        (i) =>
          within(i).getByText(/bob|carol/, { selector: '.conversation-item__title' }).textContent,
      ),
    ).toEqual(['carol', 'bob']);
    expect(within(items[0]!).getByLabelText('2 unread')).toBeTruthy();
    expect(within(items[1]!).getByText('hi from bob')).toBeTruthy();
  });

  it('opens a conversation, marks it read, sends with Enter and renders text as text', async () => {
    const model = setup();
    const bob = model.addContact('bob');
    act(() => model.receive(`direct:${bob}`, bob, '<img src=x onerror=alert(1)> hello'));
    await openChat('bob');
    const bubble = screen.getAllByTestId('message-text')[0]!;
    expect(bubble.textContent).toBe('<img src=x onerror=alert(1)> hello');
    expect(bubble.children).toHaveLength(0);
    expect(document.querySelector('.bubble img')).toBeNull();
    await waitFor(() => expect(model.calls).toContainEqual(['markRead', `direct:${bob}`]));

    const box = screen.getByLabelText('Message');
    fireEvent.change(box, { target: { value: 'hello bob' } });
    expect(model.calls).toContainEqual(['setTyping', `direct:${bob}`, true]);
    fireEvent.keyDown(box, { key: 'Enter' });
    await waitFor(() =>
      expect(model.calls).toContainEqual(['sendText', `direct:${bob}`, 'hello bob']),
    );
    expect((box as HTMLTextAreaElement).value).toBe('');
    expect(model.calls).toContainEqual(['setTyping', `direct:${bob}`, false]);
    const out = screen.getAllByTestId('message').at(-1)!;
    expect(out.className).toMatch(/out/);
    expect(within(out).getByLabelText('Sent')).toBeTruthy();
  });

  it('says why a message was not sent and retries it in place where that can help', async () => {
    const model = setup();
    const bob = model.addContact('bob');
    const conv = `direct:${bob}`;
    let id = '';
    act(() => {
      id = model.failedOutgoing(conv, 'first', { reason: 'identity_changed', retryable: true });
      model.failedOutgoing(conv, 'second', { reason: 'recipient_gone', retryable: false });
    });
    await openChat('bob');
    const [changed, gone] = screen.getAllByTestId('send-failure');
    expect(changed!.textContent).toMatch(/safety number changed/);
    expect(gone!.textContent).toMatch(/no longer exists/);
    expect(within(gone!).queryByRole('button', { name: 'Retry' })).toBeNull();
    fireEvent.click(within(changed!).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(model.calls).toContainEqual(['retrySend', conv, id]));
    // Sent in place: still two bubbles, the first now marked sent.
    await waitFor(() => expect(screen.getAllByTestId('send-failure')).toHaveLength(1));
    expect(screen.getAllByTestId('message')).toHaveLength(2);
    expect(within(screen.getAllByTestId('message')[0]!).getByLabelText('Sent')).toBeTruthy();
  });

  it('separates days and shows who is typing', async () => {
    const model = setup();
    const bob = model.addContact('bob');
    act(() => {
      model.receive(`direct:${bob}`, bob, 'old', Date.now() - 3 * 86_400_000);
      model.receive(`direct:${bob}`, bob, 'new');
    });
    await openChat('bob');
    expect(document.querySelectorAll('.day-separator')).toHaveLength(2);
    expect(screen.getByText('Today')).toBeTruthy();
    act(() => model.typingFrom(`direct:${bob}`, [bob]));
    expect(screen.getByText('bob is typing…')).toBeTruthy();
  });

  it('blocks sending after an identity change until the user accepts in two steps', async () => {
    const model = setup();
    const bob = model.addContact('bob', { identityChanged: true });
    act(() => model.receive(`direct:${bob}`, bob, 'hi'));
    await openChat('bob');
    const notice = screen.getByTestId('identity-notice');
    expect(notice.getAttribute('role')).toBe('alert');
    expect((screen.getByLabelText('Message') as HTMLTextAreaElement).disabled).toBe(true);
    expect(within(notice).queryByRole('button', { name: /close|dismiss/i })).toBeNull();
    fireEvent.click(within(notice).getByRole('button', { name: 'Accept new key…' }));
    expect(model.calls.some(([c]) => c === 'acceptIdentityChange')).toBe(false);
    fireEvent.click(within(notice).getByRole('button', { name: 'Yes, accept' }));
    await waitFor(() => expect(screen.queryByTestId('identity-notice')).toBeNull());
    expect(model.calls).toContainEqual(['acceptIdentityChange', bob]);
    expect((screen.getByLabelText('Message') as HTMLTextAreaElement).disabled).toBe(false);
  });

  it('starts a chat by username and reports unknown names', async () => {
    const model = setup();
    model.addContact('dave');
    fireEvent.click(screen.getByRole('button', { name: 'New chat' }));
    const input = await screen.findByLabelText('Username');
    fireEvent.change(input, { target: { value: 'nobody' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start chat' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/No one is called/);
    fireEvent.change(input, { target: { value: '@dave' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start chat' }));
    expect((await screen.findByTestId('conversation-title')).textContent).toBe('dave');
    expect(screen.getByText('No messages yet')).toBeTruthy();
  });
});

describe('safety, devices, settings', () => {
  it('shows 60 digits in 12 groups and marks the contact verified', async () => {
    const model = setup();
    const bob = model.addContact('bob');
    act(() => model.receive(`direct:${bob}`, bob, 'hi'));
    await openChat('bob');
    fireEvent.click(screen.getByRole('button', { name: /Safety number/ }));
    const digits = await screen.findByTestId('safety-number');
    expect(digits.children).toHaveLength(12);
    expect(digits.textContent).toHaveLength(60);
    fireEvent.click(screen.getByRole('button', { name: 'Mark as verified' }));
    expect(await screen.findByTestId('verified')).toBeTruthy();
    expect(model.calls).toContainEqual(['setVerified', bob, true]);
  });

  it('says in the conversation and its details whether messages go sealed', async () => {
    const model = setup();
    const bob = model.addContact('bob', { sealedSender: true });
    const carol = model.addContact('carol');
    act(() => model.receive(`direct:${bob}`, bob, 'hi'));
    act(() => model.receive(`direct:${carol}`, carol, 'hello'));
    await openChat('bob');
    expect(screen.getByText('Sealed sender: on')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: /Safety number/ }));
    expect((await screen.findByTestId('sealed-sender')).textContent).toMatch(
      /^Sealed sender: on\./,
    );
    fireEvent.click(screen.getByRole('button', { name: /Back|back/ }));
    await openChat('carol');
    expect(screen.getByText('Sealed sender: off')).toBeTruthy();
  });

  it('approves only pasted link codes and unlinks with confirmation', async () => {
    const model = setup();
    model.devices.push({ deviceId: 2, name: 'Laptop', current: false });
    fireEvent.click(screen.getByRole('button', { name: /Devices/ }));
    expect(await screen.findByText('Laptop')).toBeTruthy();
    const code = screen.getByTestId('approve-code');
    fireEvent.change(code, { target: { value: 'hello' } });
    fireEvent.click(screen.getByRole('button', { name: 'Approve device' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/parley:\/\/link/);
    fireEvent.change(code, { target: { value: 'parley://link?address=a&key=b' } });
    fireEvent.click(screen.getByRole('button', { name: 'Approve device' }));
    expect(await screen.findByText('Device linked.')).toBeTruthy();
    const laptop = screen.getAllByTestId('device').find((d) => d.textContent?.includes('Laptop'))!;
    fireEvent.click(within(laptop).getByRole('button', { name: 'Unlink…' }));
    fireEvent.click(within(laptop).getByRole('button', { name: 'Unlink' }));
    await waitFor(() => expect(model.calls).toContainEqual(['unlinkDevice', 2]));
  });

  it('offers history with a new device (on unless unticked); a linked device says what came', async () => {
    const model = setup();
    fireEvent.click(screen.getByRole('button', { name: /Devices/ }));
    const code = await screen.findByTestId('approve-code');
    const uri = 'parley://link?address=a&key=b';
    fireEvent.change(code, { target: { value: uri } });
    fireEvent.click(screen.getByRole('button', { name: 'Approve device' }));
    await waitFor(() => expect(model.calls).toContainEqual(['approveDevice', uri, true]));
    fireEvent.click(screen.getByTestId('transfer-history'));
    fireEvent.change(code, { target: { value: uri } });
    fireEvent.click(screen.getByRole('button', { name: 'Approve device' }));
    await waitFor(() => expect(model.calls).toContainEqual(['approveDevice', uri, false]));

    // On a linked device: progress, then why it failed and where older messages are.
    const me = model.getState().me!;
    act(() =>
      model.update({
        me: { ...me, isPrimary: false },
        history: { status: 'transferring', phase: 'downloading', percent: 42 },
      }),
    );
    fireEvent.click(screen.getByRole('button', { name: /Back|back/ }));
    const note = await screen.findByTestId('linked-device-note');
    expect(note.textContent).toBe('Transferring history… 42%');
    act(() =>
      model.update({
        history: { status: 'failed', reason: 'History could not be transferred: damaged' },
      }),
    );
    expect(screen.getByTestId('linked-device-note').textContent).toMatch(
      /^History could not be transferred: damaged\. Older messages stay on your other device/,
    );
  });

  it('needs matching passphrases and the username to delete the account', async () => {
    const model = setup();
    fireEvent.click(screen.getByRole('button', { name: /Settings/ }));
    fireEvent.change(screen.getByLabelText('Passphrase'), { target: { value: 'longenough' } });
    fireEvent.change(screen.getByLabelText('Repeat'), { target: { value: 'different!' } });
    fireEvent.click(screen.getByRole('button', { name: 'Set passphrase' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/differ/);
    fireEvent.change(screen.getByLabelText('Repeat'), { target: { value: 'longenough' } });
    fireEvent.click(screen.getByRole('button', { name: 'Set passphrase' }));
    expect(await screen.findByText('Passphrase saved.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Lock now' })).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Delete account…' }));
    const del = screen.getByRole('button', { name: 'Delete my account' }) as HTMLButtonElement;
    expect(del.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText(/Type your username/), { target: { value: 'me' } });
    expect(del.disabled).toBe(false);
    fireEvent.click(del);
    expect(await screen.findByRole('button', { name: 'Create account' })).toBeTruthy();
    expect(model.calls).toContainEqual(['deleteAccount']);
  });

  it('creates a group and manages its members', async () => {
    const model = setup();
    model.addContact('bob');
    model.addContact('carol');
    fireEvent.click(screen.getByRole('button', { name: 'New group' }));
    fireEvent.change(await screen.findByLabelText('Group name'), { target: { value: 'Trip' } });
    fireEvent.change(screen.getByLabelText('Members'), { target: { value: 'bob, carol' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create group' }));
    expect((await screen.findByTestId('conversation-title')).textContent).toBe('Trip');
    fireEvent.click(screen.getByRole('button', { name: /Group info/ }));
    expect(screen.getAllByTestId('member')).toHaveLength(2);
    fireEvent.click(screen.getByRole('button', { name: 'Remove carol' }));
    await waitFor(() =>
      expect(model.calls.some(([c, , id]) => c === 'removeMember' && id === 'acc-carol')).toBe(
        true,
      ),
    );
    fireEvent.click(screen.getByRole('button', { name: 'Leave group…' }));
    fireEvent.click(screen.getByRole('button', { name: 'Leave' }));
    await waitFor(() => expect(model.calls.some(([c]) => c === 'leaveGroup')).toBe(true));
  });
});
