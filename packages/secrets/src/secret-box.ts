import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (endpoint signing secrets, monitor headers, receiver secrets) are sealed
 * with AES-256-GCM. A sealed value names the key that sealed it, so the key can rotate:
 * put the new key first in TOCSIN_ENCRYPTION_KEY, keep the old ones after it until every
 * row has been re-sealed, then drop them.
 *
 * Format: `enc:v1:<key id>:<iv base64url>:<tag base64url>:<ciphertext base64url>`.
 */
export const SEALED_PREFIX = 'enc:v1:';

const KEY_BYTES = 32;
const IV_BYTES = 12;

export class SecretsError extends Error {
  override readonly name = 'SecretsError';
}

export interface EncryptionKey {
  /** Short, stable id stored beside every value this key seals. */
  readonly id: string;
  readonly key: Buffer;
}

/** A fresh key in the form TOCSIN_ENCRYPTION_KEY takes: base64 of 32 random bytes. */
export function generateEncryptionKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/**
 * Parses TOCSIN_ENCRYPTION_KEY: a comma-separated list, newest first, of `base64` or
 * `<id>:<base64>` entries, each 32 bytes. Without an explicit id, the id is derived from
 * the key itself so the same key always gets the same id.
 */
export function parseEncryptionKeys(value: string): EncryptionKey[] {
  const entries = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) throw new SecretsError('TOCSIN_ENCRYPTION_KEY holds no key');
  const keys = entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    const explicitId = colon > 0 ? entry.slice(0, colon) : undefined;
    const material = colon > 0 ? entry.slice(colon + 1) : entry;
    const key = Buffer.from(material, 'base64');
    if (key.length !== KEY_BYTES) {
      throw new SecretsError(`TOCSIN_ENCRYPTION_KEY entry ${index + 1} must be base64 of ${KEY_BYTES} bytes`);
    }
    if (explicitId !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(explicitId)) {
      throw new SecretsError(`TOCSIN_ENCRYPTION_KEY entry ${index + 1} has a bad key id (letters, digits, _ and -)`);
    }
    const id = explicitId ?? createHash('sha256').update(key).digest('base64url').slice(0, 8);
    return { id, key };
  });
  const ids = new Set(keys.map((k) => k.id));
  if (ids.size !== keys.length) throw new SecretsError('TOCSIN_ENCRYPTION_KEY names one key id twice');
  return keys;
}

/** Opened values kept per sealed string: the dispatcher opens an endpoint's secret on every attempt. */
const OPENED_CACHE_SIZE = 1_000;

export class SecretBox {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly current: EncryptionKey;
  private readonly opened = new Map<string, string>();

  constructor(keys: readonly EncryptionKey[]) {
    const [current] = keys;
    if (current === undefined) throw new SecretsError('a SecretBox needs at least one key');
    this.current = current;
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
  }

  static fromEnv(value: string): SecretBox {
    return new SecretBox(parseEncryptionKeys(value));
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `${SEALED_PREFIX}${this.current.id}:${iv.toString('base64url')}:${tag.toString('base64url')}:${ciphertext.toString('base64url')}`;
  }

  /** The plaintext of a sealed value; the same sealed string opens from memory the next time. */
  open(sealed: string): string {
    const cached = this.opened.get(sealed);
    if (cached !== undefined) return cached;
    const plaintext = this.decrypt(sealed);
    if (this.opened.size >= OPENED_CACHE_SIZE) this.opened.delete(this.opened.keys().next().value!);
    this.opened.set(sealed, plaintext);
    return plaintext;
  }

  private decrypt(sealed: string): string {
    const parts = parseSealed(sealed);
    const key = this.keys.get(parts.keyId);
    if (key === undefined) {
      throw new SecretsError(`sealed with key ${parts.keyId}, which TOCSIN_ENCRYPTION_KEY no longer holds`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, parts.iv);
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretsError(`a value sealed with key ${parts.keyId} does not authenticate (tampered, or the wrong key)`);
    }
  }

  sealJson(value: unknown): string {
    return this.seal(JSON.stringify(value));
  }

  openJson<T>(sealed: string): T {
    return JSON.parse(this.open(sealed)) as T;
  }

  /** True when the value was sealed with an older key and should be re-sealed. */
  needsReseal(sealed: string): boolean {
    return parseSealed(sealed).keyId !== this.current.id;
  }

  /** Opens with whichever key sealed it and seals again with the current key. */
  reseal(sealed: string): string {
    return this.needsReseal(sealed) ? this.seal(this.open(sealed)) : sealed;
  }
}

export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

function parseSealed(sealed: string): { keyId: string; iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  if (!isSealed(sealed)) throw new SecretsError('not a sealed value');
  const [keyId, iv, tag, ciphertext, ...rest] = sealed.slice(SEALED_PREFIX.length).split(':');
  if (!keyId || iv === undefined || tag === undefined || ciphertext === undefined || rest.length > 0) {
    throw new SecretsError('a sealed value is malformed');
  }
  return {
    keyId,
    iv: Buffer.from(iv, 'base64url'),
    tag: Buffer.from(tag, 'base64url'),
    ciphertext: Buffer.from(ciphertext, 'base64url'),
  };
}
