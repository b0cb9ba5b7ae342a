/** Attachment ids: 16 bytes from the CSPRNG, base64url (22 characters; see @parley/protocol). */
const ID_BYTES = 16;

export function newAttachmentId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(ID_BYTES));
  return Buffer.from(bytes).toString('base64url');
}
