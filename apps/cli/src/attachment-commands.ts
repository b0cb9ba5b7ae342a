/**
 * Files (issue 17): `parley send-file <contact-or-group> <path>` encrypts and uploads a file
 * and sends it as a message; `receive` and `listen` save the files they get into the
 * attachments folder (`--attachments-dir`, default `<data dir>/attachments`).
 *
 * Saved names come from the sender, so they are made safe here: only the last path segment,
 * no control characters, never `.` or `..`, and an existing file is never overwritten (the
 * new one gets a ` (n)` suffix; created with O_EXCL, so a race cannot overwrite either).
 * @module
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import {
  AttachmentIntegrityError,
  baseName,
  type AttachmentRecord,
  type MessageRecord,
  type ParleyClient,
} from '@parley/client';
import type { TrustCommandDeps } from './trust-commands.ts';

/** What `--json` shows of an attachment: never its key, digest or thumbnail bytes. */
export function attachmentInfo(a: AttachmentRecord) {
  return {
    fileName: a.fileName,
    contentType: a.contentType,
    size: a.size,
    ...(a.width ? { width: a.width, height: a.height } : {}),
    ...(a.caption ? { caption: a.caption } : {}),
    ...(a.upload ? { upload: a.upload } : {}),
    ...(a.uploadFailure ? { uploadFailure: a.uploadFailure } : {}),
  };
}

/** A message as `--json` prints it: the attachments without their secrets. */
export function publicMessage(m: MessageRecord): unknown {
  if (!m.attachments) return m;
  return { ...m, attachments: m.attachments.map(attachmentInfo) };
}

/** `[file report.pdf, 1.2 MB]` for the one-line view. */
export function attachmentWords(m: MessageRecord): string {
  return (m.attachments ?? []).map((a) => ` [file ${a.fileName}, ${size(a.size)}]`).join('');
}

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A sender-chosen name that is safe to create in our folder. */
export function safeFileName(name: string): string {
  const b = baseName(name).replace(/^\.+/, '');
  return b === '' ? 'file' : b;
}

/** Writes `bytes` as a new file named like `name` in `dir`; returns the path it took. */
export async function saveNew(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const safe = safeFileName(name);
  const ext = extname(safe);
  const stem = safe.slice(0, safe.length - ext.length) || 'file';
  for (let n = 0; ; n++) {
    const path = join(dir, n === 0 ? safe : `${stem} (${n})${ext}`);
    try {
      await writeFile(path, bytes, { flag: 'wx', mode: 0o600 });
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n > 9999) throw err;
    }
  }
}

/**
 * Downloads and saves a message's attachments; a failure is reported and the others still go.
 * Returns the paths written.
 */
export async function saveAttachments(
  client: ParleyClient,
  m: MessageRecord,
  dir: string,
  report: (line: string, data: unknown) => void,
  warn: (line: string) => void,
): Promise<string[]> {
  const saved: string[] = [];
  for (let i = 0; i < (m.attachments?.length ?? 0); i++) {
    const a = m.attachments![i]!;
    if (a.relayId === '') continue;
    try {
      const bytes = await client.downloadAttachment(m.conversationId, m.id, i);
      const path = await saveNew(dir, a.fileName, bytes);
      saved.push(path);
      report(`saved ${a.fileName} → ${path}`, { saved: path, messageId: m.id, index: i });
    } catch (err) {
      const why =
        err instanceof AttachmentIntegrityError
          ? `it failed its integrity check (${err.code}); it was not saved`
          : err instanceof Error
            ? err.message
            : String(err);
      warn(`could not download ${a.fileName} from message ${m.id}: ${why}`);
    }
  }
  return saved;
}

export function registerAttachmentCommands(program: Command, deps: TrustCommandDeps): void {
  program
    .command('send-file')
    .description('encrypt and send a file to a contact or group')
    .argument('<to>', 'username, account id, or group (id or title)')
    .argument('<path>', 'the file')
    .option('-g, --group', 'treat <to> as a group')
    .option('-c, --caption <text>', 'a caption sent with the file')
    .option('-t, --type <content-type>', 'the content type (default: guessed from the name)')
    .action(
      async (
        to: string,
        path: string,
        opts: { group?: boolean; caption?: string; type?: string },
      ) => {
        const bytes = new Uint8Array(
          await readFile(path).catch(() => {
            throw deps.fail(`cannot read ${path}`);
          }),
        );
        await deps.withClient(async (c) => {
          const conversationId = await conversationOf(deps, c, to, opts.group === true);
          const m = await c.sendAttachment(
            conversationId,
            { bytes, fileName: basename(path), contentType: opts.type ?? guessType(path) },
            opts.caption ? { caption: opts.caption } : {},
          );
          const a = m.attachments![0]!;
          deps.print(
            `${m.status === 'queued' ? 'queued' : 'sent'} ${m.id} (${a.fileName}, ${size(a.size)})`,
            {
              id: m.id,
              status: m.status,
              timestamp: m.timestamp,
              attachments: m.attachments!.map(attachmentInfo),
            },
          );
        });
      },
    );
}

async function conversationOf(
  deps: TrustCommandDeps,
  c: ParleyClient,
  to: string,
  group: boolean,
): Promise<string> {
  // Like `parley messages`: a group's title or id first, then a contact.
  const g = (await c.groups()).find((x) => x.groupId === to || x.title === to);
  if (group || g) return `group:${await deps.resolveGroup(c, to)}`;
  return `direct:${await deps.resolveAccount(c, to)}`;
}

const TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.json': 'application/json',
  '.zip': 'application/zip',
  '.mp4': 'video/mp4',
  '.mp3': 'audio/mpeg',
};

function guessType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}
