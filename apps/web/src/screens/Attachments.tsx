/**
 * A message's files: images inline (downloaded, checked and decrypted in the browser into a
 * `blob:` URL, revoked when the bubble goes), other files as a card with a Download button
 * (decrypted, then saved through an `<a download>` on a `blob:` URL). Uploads and downloads
 * show progress with Cancel; a failed download says why and offers Retry (a failed upload is
 * retried with the message: FailedNote).
 * @module
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { INLINE_IMAGE_TYPES, transferWords } from '../model/attachments.ts';
import { errorMessage, useChatModel, useModelState } from '../model/context.tsx';
import { transferKey, type AttachmentView, type Message } from '../model/types.ts';

/** Larger images are cards: opening one is the user's choice, not a side effect of scrolling. */
const INLINE_MAX_BYTES = 10 * 1024 * 1024;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function MessageAttachments({ message }: { message: Message }) {
  return (
    <div className="attachments">
      {(message.attachments ?? []).map((a, i) =>
        INLINE_IMAGE_TYPES.has(a.contentType) &&
        a.size <= INLINE_MAX_BYTES &&
        a.upload !== 'uploading' &&
        a.upload !== 'failed' ? (
          <InlineImage key={i} message={message} index={i} attachment={a} />
        ) : (
          <FileCard key={i} message={message} index={i} attachment={a} />
        ),
      )}
    </div>
  );
}

interface ItemProps {
  message: Message;
  index: number;
  attachment: AttachmentView;
}

/** A download in progress or failed, with its controller. */
function useDownload(message: Message, index: number) {
  const model = useChatModel();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const controller = useRef<AbortController | undefined>(undefined);
  useEffect(() => () => controller.current?.abort(), []);
  const run = useCallback(async (): Promise<Blob | undefined> => {
    controller.current?.abort();
    const c = (controller.current = new AbortController());
    setBusy(true);
    setError(undefined);
    try {
      return await model.openAttachment(message.conversationId, message.id, index, {
        signal: c.signal,
      });
    } catch (err) {
      if (!c.signal.aborted) setError(errorMessage(err));
      else setError('Download cancelled.');
      return undefined;
    } finally {
      if (controller.current === c) {
        controller.current = undefined;
        setBusy(false);
      }
    }
  }, [model, message.conversationId, message.id, index]);
  const cancel = () => controller.current?.abort();
  return { run, cancel, busy, error };
}

function Progress({
  message,
  index,
  direction,
  onCancel,
}: {
  message: Message;
  index: number;
  direction: 'upload' | 'download';
  onCancel: () => void;
}) {
  const t = useModelState().transfers?.[transferKey(message.id, index, direction)];
  const label = direction === 'upload' ? 'Uploading' : 'Downloading';
  return (
    <div className="attachment__progress" data-testid={`${direction}-progress`}>
      <progress
        max={t?.total || 1}
        value={t?.done ?? 0}
        aria-label={`${label} ${message.attachments?.[index]?.fileName ?? 'file'}`}
      />
      <button type="button" className="link-button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

function InlineImage({ message, index, attachment }: ItemProps) {
  const { run, cancel, busy, error } = useDownload(message, index);
  const [url, setUrl] = useState<string>();
  const load = useCallback(async () => {
    const blob = await run();
    if (blob) setUrl(URL.createObjectURL(blob));
  }, [run]);
  useEffect(() => {
    void load();
  }, [load]);
  // The decrypted image lives only as long as the bubble.
  useEffect(() => (url ? () => URL.revokeObjectURL(url) : undefined), [url]);
  const thumbnail = useObjectUrl(attachment.thumbnail, 'image/jpeg');
  const alt = attachment.fileName || 'Image';
  return (
    <figure className="attachment attachment--image" data-testid="attachment-image">
      {url ? (
        <img
          src={url}
          alt={alt}
          width={attachment.width}
          height={attachment.height}
          className="attachment__img"
        />
      ) : (
        <div
          className="attachment__placeholder"
          style={{
            aspectRatio: attachment.width
              ? `${attachment.width} / ${attachment.height}`
              : undefined,
          }}
        >
          {thumbnail && (
            <img src={thumbnail} alt="" aria-hidden="true" className="attachment__thumb" />
          )}
          {busy && (
            <Progress message={message} index={index} direction="download" onCancel={cancel} />
          )}
          {error && <DownloadFailure error={error} onRetry={() => void load()} />}
        </div>
      )}
    </figure>
  );
}

/** A `blob:` URL for bytes, revoked when they change or the component goes. */
function useObjectUrl(bytes: Uint8Array | undefined, type: string): string | undefined {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (!bytes) return;
    const u = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
    setUrl(u);
    return () => {
      URL.revokeObjectURL(u);
      setUrl(undefined);
    };
  }, [bytes, type]);
  return url;
}

function FileCard({ message, index, attachment }: ItemProps) {
  const model = useChatModel();
  const { run, cancel, busy, error } = useDownload(message, index);
  const download = async () => {
    const blob = await run();
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = attachment.fileName || 'file';
    document.body.append(a);
    a.click();
    a.remove();
    // The browser has the download once the click returned; free the memory soon after.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };
  const uploading = attachment.upload === 'uploading';
  return (
    <div className="attachment attachment--file" data-testid="attachment-file">
      <span className="attachment__name">{attachment.fileName || 'file'}</span>
      <span className="attachment__size">{formatBytes(attachment.size)}</span>
      {uploading ? (
        <Progress
          message={message}
          index={index}
          direction="upload"
          onCancel={() => model.cancelUpload(message.id)}
        />
      ) : attachment.upload === 'failed' ? (
        <span className="attachment__failure" data-testid="upload-failure">
          Upload failed: {transferWords(attachment.uploadFailure?.code ?? 'network')}
        </span>
      ) : busy ? (
        <Progress message={message} index={index} direction="download" onCancel={cancel} />
      ) : (
        <button type="button" className="button button--ghost" onClick={() => void download()}>
          Download
        </button>
      )}
      {error && !busy && <DownloadFailure error={error} onRetry={() => void download()} />}
    </div>
  );
}

function DownloadFailure({ error, onRetry }: { error: string; onRetry: () => void }) {
  return (
    <p className="attachment__failure" role="alert" data-testid="download-failure">
      {error}{' '}
      <button type="button" className="link-button" onClick={onRetry}>
        Retry
      </button>
    </p>
  );
}
