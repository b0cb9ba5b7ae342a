/**
 * Getting files into a conversation: the attach button (a labelled button opening a hidden file
 * input), drag and drop onto the conversation, and pasting files or images. Each file is sent
 * as its own message; an error that leaves no bubble behind (e.g. too large) shows here.
 * @module
 */
import { useCallback, useRef, useState, type ClipboardEvent, type DragEvent } from 'react';
import { Icon } from '../components/Icon.tsx';
import { errorMessage, useChatModel } from '../model/context.tsx';

export function useSendFiles(conversationId: string) {
  const model = useChatModel();
  const [error, setError] = useState<string>();
  const send = useCallback(
    (files: readonly File[]) => {
      setError(undefined);
      for (const f of files) {
        model.sendFile(conversationId, f).catch((err: unknown) => setError(errorMessage(err)));
      }
    },
    [model, conversationId],
  );
  return { send, error, clearError: () => setError(undefined) };
}

/** Drag-and-drop and paste handlers for the conversation, and whether a drag is over it. */
export function useFileDrop(send: (files: readonly File[]) => void, enabled: boolean) {
  const [over, setOver] = useState(false);
  const hasFiles = (e: DragEvent) => enabled && [...e.dataTransfer.types].includes('Files');
  return {
    over,
    handlers: {
      onDragOver: (e: DragEvent) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        setOver(true);
      },
      onDragLeave: (e: DragEvent) => {
        if (e.currentTarget === e.target) setOver(false);
      },
      onDrop: (e: DragEvent) => {
        setOver(false);
        if (!enabled || e.dataTransfer.files.length === 0) return;
        e.preventDefault();
        send([...e.dataTransfer.files]);
      },
      onPaste: (e: ClipboardEvent) => {
        if (!enabled || e.clipboardData.files.length === 0) return;
        e.preventDefault();
        send([...e.clipboardData.files]);
      },
    },
  };
}

export function AttachButton({
  onFiles,
  disabled,
}: {
  onFiles: (files: readonly File[]) => void;
  disabled: boolean;
}) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        data-testid="attach-input"
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = ''; // the same file can be chosen again
          if (files.length > 0) onFiles(files);
        }}
      />
      <button
        type="button"
        className="attach-button"
        aria-label="Attach a file"
        title="Attach a file"
        disabled={disabled}
        onClick={() => input.current?.click()}
      >
        <Icon name="paperclip" />
      </button>
    </>
  );
}
