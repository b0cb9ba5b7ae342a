/** Checks the schemas cannot express (unique key ids in a batch). */
import { badRequest } from '../errors.ts';

export function assertUniqueKeyIds(
  field: string,
  keys: readonly { keyId: number }[] | undefined,
): void {
  if (!keys) return;
  const seen = new Set<number>();
  for (const { keyId } of keys) {
    if (seen.has(keyId)) throw badRequest(`${field} contains key id ${keyId} twice`);
    seen.add(keyId);
  }
}
