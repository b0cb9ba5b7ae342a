/**
 * Sending and changing messages: text (with a reply), reactions, edits, deletions, the
 * disappearing-message timer, files (attachments.ts does the transfers), and sending a failed
 * message again. Each resolves with the result on screen, and rejects with words for the user.
 * @module
 */
import { IdentityChangedError, type ParleyClient } from '@parley/client';
import type { FileTransfers } from '../attachments.ts';
import type { StateStore } from '../store.ts';
import type { ActiveClient } from './active-client.ts';
import { splitId } from './conversations.ts';
import { friendly } from './errors.ts';
import type { Snapshot } from './snapshot.ts';

export class MessageActions {
  constructor(
    private readonly store: StateStore,
    private readonly active: ActiveClient,
    private readonly snapshot: Snapshot,
    private readonly files: FileTransfers,
  ) {}

  async sendText(
    conversationId: string,
    text: string,
    options: { replyTo?: string } = {},
  ): Promise<void> {
    const client = this.active.require();
    const [kind, peer] = splitId(conversationId);
    this.snapshot.open.add(conversationId);
    const sending =
      kind === 'group'
        ? client.sendGroupText(peer, text, options)
        : client.sendText(peer, text, options);
    // The message is stored (as "queued") before it goes out: show it right away.
    const early = setTimeout(() => this.snapshot.schedule(), 50);
    try {
      await sending;
    } catch (err) {
      if (err instanceof IdentityChangedError) {
        throw new Error('Not sent: this contact’s safety number changed. Review it first.');
      }
      throw new Error(`Not sent: ${friendly(err)}`);
    } finally {
      clearTimeout(early);
      // Resolve with the message on screen in the state it reached (sent, or queued).
      await this.snapshot.refreshOrWarn();
    }
  }

  react(conversationId: string, messageId: string, emoji: string | null): Promise<void> {
    return this.#act((c) => c.react(conversationId, messageId, emoji));
  }

  editMessage(conversationId: string, messageId: string, text: string): Promise<void> {
    return this.#act((c) => c.editMessage(conversationId, messageId, text));
  }

  deleteForEveryone(conversationId: string, messageId: string): Promise<void> {
    return this.#act((c) => c.deleteForEveryone(conversationId, messageId));
  }

  deleteForMe(conversationId: string, messageId: string): Promise<void> {
    return this.#act((c) => c.deleteForMe(conversationId, [messageId]));
  }

  setExpireTimer(conversationId: string, seconds: number): Promise<void> {
    return this.#act((c) => c.setExpireTimer(conversationId, seconds));
  }

  /** A change to a stored message; the screen shows the result at once. */
  async #act(change: (client: ParleyClient) => Promise<unknown>): Promise<void> {
    try {
      await change(this.active.require());
    } catch (err) {
      throw new Error(friendly(err));
    } finally {
      await this.snapshot.refreshOrWarn();
    }
  }

  async sendFile(
    conversationId: string,
    file: File,
    options: { caption?: string } = {},
  ): Promise<void> {
    this.snapshot.open.add(conversationId);
    try {
      await this.files.send(this.active.require(), conversationId, file, options.caption);
    } finally {
      await this.snapshot.refreshOrWarn();
    }
  }

  cancelUpload(messageId: string): void {
    this.files.cancel(messageId);
  }

  openAttachment(
    conversationId: string,
    messageId: string,
    index: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<Blob> {
    return this.files.open(this.active.require(), conversationId, messageId, index, options.signal);
  }

  async retrySend(conversationId: string, messageId: string): Promise<void> {
    const held = this.store
      .getState()
      .messages[conversationId]?.find((m) => m.id === messageId)
      ?.attachments?.some((a) => a.upload !== undefined && a.upload !== 'uploaded');
    if (held) {
      try {
        return await this.files.retry(this.active.require(), conversationId, messageId);
      } finally {
        await this.snapshot.refreshOrWarn();
      }
    }
    try {
      await this.active.require().retrySend(conversationId, messageId);
    } catch (err) {
      if (err instanceof IdentityChangedError) {
        throw new Error('Not sent: this contact’s safety number changed. Review it first.');
      }
      throw new Error(`Not sent: ${friendly(err)}`);
    } finally {
      await this.snapshot.refreshOrWarn();
    }
  }
}
