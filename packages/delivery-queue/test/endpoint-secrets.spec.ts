import { generateEncryptionKey, SecretBox } from '@tocsin/secrets';
import { openSecret, signingSecrets } from '../src';

describe('endpoint signing secrets', () => {
  const box = SecretBox.fromEnv(generateEncryptionKey());
  const now = new Date('2026-01-01T00:00:00Z');

  it('signs with the current secret, then every replaced one still inside its overlap, newest first', () => {
    const endpoint = {
      secret: box.seal('whsec_new'),
      previous_secrets: [
        { secret: box.seal('whsec_oldest'), expires_at: '2026-01-01T00:05:00Z' },
        { secret: box.seal('whsec_expired'), expires_at: '2025-12-31T23:59:59Z' },
        { secret: box.seal('whsec_older'), expires_at: '2026-01-01T00:10:00Z' },
      ],
    };
    expect(signingSecrets(box, endpoint, now)).toEqual(['whsec_new', 'whsec_older', 'whsec_oldest']);
  });

  it('reads a secret stored before sealing existed as it is', () => {
    expect(openSecret(box, 'whsec_plain')).toBe('whsec_plain');
    expect(openSecret(box, box.seal('whsec_sealed'))).toBe('whsec_sealed');
  });
});
