import type { EntityManager } from 'typeorm';
import type { PreviousSecret } from '@tocsin/database';
import { isSealed, type SecretBox } from '@tocsin/secrets';

/** Opens a stored signing secret; a row written before sealing existed is read as it is. */
export function openSecret(box: SecretBox, stored: string): string {
  return isSealed(stored) ? box.open(stored) : stored;
}

/**
 * The secrets an attempt signs with, newest first: the current one, then every replaced
 * one whose overlap window has not yet ended.
 */
export function signingSecrets(
  box: SecretBox,
  endpoint: { readonly secret: string; readonly previous_secrets: readonly PreviousSecret[] },
  now: Date,
): string[] {
  const previous = endpoint.previous_secrets
    .filter((p) => Date.parse(p.expires_at) > now.getTime())
    .sort((a, b) => Date.parse(b.expires_at) - Date.parse(a.expires_at))
    .map((p) => openSecret(box, p.secret));
  return [openSecret(box, endpoint.secret), ...previous];
}

/**
 * Seals signing secrets stored in plaintext by earlier versions, and re-seals ones sealed
 * with an older encryption key. Run at boot by the apps that hold the key; a row another
 * replica sealed meanwhile is left as that replica wrote it.
 */
export async function sealStoredSecrets(manager: EntityManager, box: SecretBox): Promise<number> {
  const rows: Array<{ id: string; secret: string }> = await manager.query('SELECT id, secret FROM endpoints WHERE secret NOT LIKE $1', [
    `enc:v1:${box.currentKeyId}:%`,
  ]);
  let sealed = 0;
  for (const row of rows) {
    const next = isSealed(row.secret) ? box.reseal(row.secret) : box.seal(row.secret);
    if (next === row.secret) continue;
    const result: [unknown[], number] = await manager.query('UPDATE endpoints SET secret = $2 WHERE id = $1 AND secret = $3', [
      row.id,
      next,
      row.secret,
    ]);
    sealed += result[1];
  }
  return sealed;
}
