import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (endpoint signing secrets and headers, monitor headers, receiver
 * secrets) are sealed with AES-256-GCM. A sealed value names the key that sealed it, so the
 * key can rotate: put the new key first in TOCSIN_ENCRYPTION_KEY, keep the old ones after
 * it until every row has been re-sealed (`tocsin admin reseal`, or the apps at boot), then
 * drop them.
 *
 * Format: `enc:v2:<key id>:<iv base64url>:<tag base64url>:<ciphertext base64url>`, its
 * associated data the place the value belongs to (`<table>.<column>:<row id>`, see
 * {@link sealedIn}): a ciphertext copied into another row or column, which someone with
 * write access to the database could do to make one tenant's secret sign for another, does
 * not open there. `enc:v1:` values, sealed before that binding, still open (they carry no
 * place) and are re-sealed to v2 like values under a retired key.
 */
export const SEALED_PREFIX = 'enc:v2:';
const V1_PREFIX = 'enc:v1:';

const KEY_BYTES = 32;
const IV_BYTES = 12;
/** GCM tags are 16 bytes here; a shorter one would be a weaker check an attacker could pick. */
const TAG_BYTES = 16;

export class SecretsError extends Error {
  override readonly name: string = 'SecretsError';
}

/**
 * A stored value that cannot be opened: its key is no longer configured, it does not
 * authenticate (tampered, the wrong key, or copied from another row), or it is malformed.
 * It fails the work of the one row that holds it, never the process.
 */
export class SecretUnreadableError extends SecretsError {
  override readonly name: string = 'SecretUnreadableError';
  /** The error class answers, attempts and logs show. */
  readonly errorClass = 'secret_unreadable';
}

/** Where a sealed value lives: its associated data. Each sealed column has one helper. */
export const sealedIn = {
  monitorHeaders: (monitorId: string) => `monitors.sealed_headers:${monitorId}`,
  /** The current secret and the replaced ones (`previous_secrets`) alike: rotation moves one into the other unopened. */
  endpointSecret: (endpointId: string) => `endpoints.secret:${endpointId}`,
  endpointHeaders: (endpointId: string) => `endpoints.sealed_headers:${endpointId}`,
  receiverSecret: (receiverId: string) => `receivers.secret:${receiverId}`,
} as const;

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

  /** Seals a value for one place (`sealedIn.…`): it opens only with that same place. */
  seal(plaintext: string, place: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(place, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `${SEALED_PREFIX}${this.current.id}:${iv.toString('base64url')}:${tag.toString('base64url')}:${ciphertext.toString('base64url')}`;
  }

  /**
   * The plaintext of a value sealed for `place`; the same value opens from memory the next
   * time. Throws {@link SecretUnreadableError} when it cannot be opened.
   */
  open(sealed: string, place: string): string {
    const cacheKey = `${place}\u0000${sealed}`;
    const cached = this.opened.get(cacheKey);
    if (cached !== undefined) return cached;
    const plaintext = this.decrypt(sealed, place);
    if (this.opened.size >= OPENED_CACHE_SIZE) this.opened.delete(this.opened.keys().next().value!);
    this.opened.set(cacheKey, plaintext);
    return plaintext;
  }

  private decrypt(sealed: string, place: string): string {
    const parts = parseSealed(sealed);
    const key = this.keys.get(parts.keyId);
    if (key === undefined) {
      throw new SecretUnreadableError(`sealed with key ${parts.keyId}, which TOCSIN_ENCRYPTION_KEY no longer holds`);
    }
    if (parts.iv.length !== IV_BYTES || parts.tag.length !== TAG_BYTES) throw new SecretUnreadableError('a sealed value is malformed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, parts.iv, { authTagLength: TAG_BYTES });
      if (parts.version === 2) decipher.setAAD(Buffer.from(place, 'utf8'));
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretUnreadableError(
        `a value sealed with key ${parts.keyId} does not authenticate here (tampered, the wrong key, or sealed for another row)`,
      );
    }
  }

  sealJson(value: unknown, place: string): string {
    return this.seal(JSON.stringify(value), place);
  }

  openJson<T>(sealed: string, place: string): T {
    return JSON.parse(this.open(sealed, place)) as T;
  }

  /** True when the value was sealed with an older key or envelope and should be re-sealed. */
  needsReseal(sealed: string): boolean {
    const parts = parseSealed(sealed);
    return parts.version !== 2 || parts.keyId !== this.current.id;
  }

  /** Opens with whichever key sealed it and seals again, as v2 for `place`, with the current key. */
  reseal(sealed: string, place: string): string {
    return this.needsReseal(sealed) ? this.seal(this.open(sealed, place), place) : sealed;
  }
}

export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX) || value.startsWith(V1_PREFIX);
}

function parseSealed(sealed: string): { version: 1 | 2; keyId: string; iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const version = sealed.startsWith(SEALED_PREFIX) ? 2 : sealed.startsWith(V1_PREFIX) ? 1 : undefined;
  if (version === undefined) throw new SecretUnreadableError('not a sealed value');
  const [keyId, iv, tag, ciphertext, ...rest] = sealed.slice(SEALED_PREFIX.length).split(':');
  if (!keyId || iv === undefined || tag === undefined || ciphertext === undefined || rest.length > 0) {
    throw new SecretUnreadableError('a sealed value is malformed');
  }
  return {
    version,
    keyId,
    iv: Buffer.from(iv, 'base64url'),
    tag: Buffer.from(tag, 'base64url'),
    ciphertext: Buffer.from(ciphertext, 'base64url'),
  };
}
