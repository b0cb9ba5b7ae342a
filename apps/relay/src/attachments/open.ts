/** The configured blob store: the S3 bucket if one is set, else the local folder. */
import { defaultAttachmentsDir, type RelayConfig } from '../config.ts';
import { FileBlobStore, type BlobStore } from './blob-store.ts';
import { S3BlobStore } from './s3-blob-store.ts';

export async function openBlobStore(config: RelayConfig): Promise<BlobStore> {
  const { s3, dir } = config.attachments;
  if (s3) return new S3BlobStore(s3);
  return FileBlobStore.open(dir ?? defaultAttachmentsDir(config.dbPath));
}
