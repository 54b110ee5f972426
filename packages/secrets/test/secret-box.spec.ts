import { generateEncryptionKey, isSealed, parseEncryptionKeys, SecretBox, SecretsError } from '../src';

describe('SecretBox', () => {
  const oldKey = generateEncryptionKey();
  const newKey = generateEncryptionKey();

  it('seals to an opaque value that opens to the plaintext', () => {
    const box = SecretBox.fromEnv(oldKey);
    const sealed = box.seal('whsec_abc');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('whsec_abc');
    expect(box.open(sealed)).toBe('whsec_abc');
    expect(box.seal('whsec_abc')).not.toBe(sealed);
  });

  it('round-trips JSON such as monitor headers', () => {
    const box = SecretBox.fromEnv(oldKey);
    const headers = { authorization: 'Bearer t0ken', 'x-ünï': 'çödé' };
    expect(box.openJson(box.sealJson(headers))).toEqual(headers);
  });

  it('opens values sealed with an older key and re-seals them with the newest', () => {
    const before = SecretBox.fromEnv(oldKey).seal('s3cret');
    const rotated = SecretBox.fromEnv(`${newKey},${oldKey}`);
    expect(rotated.open(before)).toBe('s3cret');
    expect(rotated.needsReseal(before)).toBe(true);
    const after = rotated.reseal(before);
    expect(rotated.needsReseal(after)).toBe(false);
    expect(SecretBox.fromEnv(newKey).open(after)).toBe('s3cret');
    expect(() => SecretBox.fromEnv(newKey).open(before)).toThrow(/no longer holds/);
  });

  it('refuses a tampered value', () => {
    const box = SecretBox.fromEnv(oldKey);
    const sealed = box.seal('value');
    const parts = sealed.split(':');
    parts[5] = Buffer.from('other').toString('base64url');
    expect(() => box.open(parts.join(':'))).toThrow(SecretsError);
    expect(() => box.open('plain')).toThrow(/not a sealed value/);
    expect(() => box.open('enc:v1:x:y')).toThrow(/malformed/);
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
