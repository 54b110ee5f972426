import { createCipheriv, randomBytes } from 'node:crypto';
import {
  generateEncryptionKey,
  isSealed,
  parseEncryptionKeys,
  SecretBox,
  sealedIn,
  SecretsError,
  SecretUnreadableError,
  SEALED_PREFIX,
} from '../src';

/** A value as the v1 envelope sealed it: no associated data, whatever tag length it was given. */
function sealV1(keyEntry: string, plaintext: string, tagBytes = 16): string {
  const [key] = parseEncryptionKeys(keyEntry);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key!.key, iv, { authTagLength: tagBytes });
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `enc:v1:${key!.id}:${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${ciphertext.toString('base64url')}`;
}

describe('SecretBox', () => {
  const oldKey = generateEncryptionKey();
  const newKey = generateEncryptionKey();
  const here = sealedIn.endpointSecret('6f1c1a52-0000-4000-8000-000000000001');
  const elsewhere = sealedIn.endpointSecret('6f1c1a52-0000-4000-8000-000000000002');

  it('seals to an opaque v2 value that opens to the plaintext in its own place', () => {
    const box = SecretBox.fromEnv(oldKey);
    const sealed = box.seal('whsec_abc', here);
    expect(sealed.startsWith(SEALED_PREFIX)).toBe(true);
    expect(SEALED_PREFIX).toBe('enc:v2:');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('whsec_abc');
    expect(box.open(sealed, here)).toBe('whsec_abc');
    expect(box.seal('whsec_abc', here)).not.toBe(sealed);
  });

  it('round-trips JSON such as monitor headers', () => {
    const box = SecretBox.fromEnv(oldKey);
    const place = sealedIn.monitorHeaders('m1');
    const headers = { authorization: 'Bearer t0ken', 'x-ünï': 'çödé' };
    expect(box.openJson(box.sealJson(headers, place), place)).toEqual(headers);
  });

  it('refuses a value copied to another row or column, by class', () => {
    const box = SecretBox.fromEnv(oldKey);
    const sealed = box.seal('whsec_abc', here);
    expect(() => box.open(sealed, elsewhere)).toThrow(SecretUnreadableError);
    expect(() => box.open(sealed, sealedIn.receiverSecret('6f1c1a52-0000-4000-8000-000000000001'))).toThrow(/sealed for another row/);
    // A refused place is not cached as opened: the right place still opens, the wrong one still fails.
    expect(box.open(sealed, here)).toBe('whsec_abc');
    expect(() => box.open(sealed, elsewhere)).toThrow(SecretUnreadableError);
  });

  it('still opens enc:v1 values, whatever place is asked, and re-seals them to v2 bound to theirs', () => {
    const v1 = sealV1(oldKey, 's3cret');
    const box = SecretBox.fromEnv(oldKey);
    expect(isSealed(v1)).toBe(true);
    expect(box.open(v1, here)).toBe('s3cret');
    expect(box.needsReseal(v1)).toBe(true);
    const v2 = box.reseal(v1, here);
    expect(v2.startsWith('enc:v2:')).toBe(true);
    expect(box.needsReseal(v2)).toBe(false);
    expect(box.reseal(v2, here)).toBe(v2);
    expect(box.open(v2, here)).toBe('s3cret');
    expect(() => box.open(v2, elsewhere)).toThrow(SecretUnreadableError);
  });

  it('fixes the tag length at 16 bytes: a truncated tag is refused', () => {
    const box = SecretBox.fromEnv(oldKey);
    const sealed = box.seal('value', here);
    const parts = sealed.split(':');
    parts[4] = Buffer.from(parts[4]!, 'base64url').subarray(0, 4).toString('base64url');
    expect(() => box.open(parts.join(':'), here)).toThrow(SecretUnreadableError);
    // A v1 value sealed with a 4-byte tag is malleable enough to forge: it is refused too.
    expect(() => box.open(sealV1(oldKey, 'value', 4), here)).toThrow(SecretUnreadableError);
    expect(() => box.open(sealV1(oldKey, 'value', 16), here)).not.toThrow();
  });

  it('opens values sealed with an older key and re-seals them with the newest', () => {
    const before = SecretBox.fromEnv(oldKey).seal('s3cret', here);
    const rotated = SecretBox.fromEnv(`${newKey},${oldKey}`);
    expect(rotated.open(before, here)).toBe('s3cret');
    expect(rotated.needsReseal(before)).toBe(true);
    const after = rotated.reseal(before, here);
    expect(rotated.needsReseal(after)).toBe(false);
    expect(SecretBox.fromEnv(newKey).open(after, here)).toBe('s3cret');
    expect(() => SecretBox.fromEnv(newKey).open(before, here)).toThrow(/no longer holds/);
    expect(() => SecretBox.fromEnv(newKey).open(before, here)).toThrow(SecretUnreadableError);
  });

  it('refuses a tampered value', () => {
    const box = SecretBox.fromEnv(oldKey);
    const sealed = box.seal('value', here);
    const parts = sealed.split(':');
    parts[5] = Buffer.from('other').toString('base64url');
    expect(() => box.open(parts.join(':'), here)).toThrow(SecretUnreadableError);
    expect(() => box.open('plain', here)).toThrow(/not a sealed value/);
    expect(() => box.open('enc:v2:x:y', here)).toThrow(/malformed/);
    const unreadable = new SecretUnreadableError('x');
    expect(unreadable).toBeInstanceOf(SecretsError);
    expect(unreadable.errorClass).toBe('secret_unreadable');
  });

  it('validates TOCSIN_ENCRYPTION_KEY with explicit and derived ids', () => {
    expect(parseEncryptionKeys(`k2:${newKey}, k1:${oldKey}`).map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(parseEncryptionKeys(oldKey)[0]?.id).toBe(parseEncryptionKeys(oldKey)[0]?.id);
    expect(() => parseEncryptionKeys('')).toThrow(/no key/);
    expect(() => parseEncryptionKeys('c2hvcnQ=')).toThrow(/32 bytes/);
    expect(() => parseEncryptionKeys(`a:${oldKey},a:${newKey}`)).toThrow(/twice/);
    expect(() => parseEncryptionKeys(`bad id!:${oldKey}`)).toThrow(/key id/);
  });
});
