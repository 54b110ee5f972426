import { generateEncryptionKey, sealedIn, SecretBox, SecretUnreadableError } from '@tocsin/secrets';
import { endpointHeaders, maskedHeaders, openSecret, signingSecrets } from '../src';

describe('endpoint signing secrets', () => {
  const box = SecretBox.fromEnv(generateEncryptionKey());
  const now = new Date('2026-01-01T00:00:00Z');
  const id = '0b6f5a3e-0000-4000-8000-000000000001';
  const seal = (secret: string, endpointId = id) => box.seal(secret, sealedIn.endpointSecret(endpointId));

  it('signs with the current secret, then every replaced one still inside its overlap, newest first', () => {
    const endpoint = {
      id,
      secret: seal('whsec_new'),
      previous_secrets: [
        { secret: seal('whsec_oldest'), expires_at: '2026-01-01T00:05:00Z' },
        { secret: seal('whsec_expired'), expires_at: '2025-12-31T23:59:59Z' },
        { secret: seal('whsec_older'), expires_at: '2026-01-01T00:10:00Z' },
      ],
    };
    expect(signingSecrets(box, endpoint, now)).toEqual(['whsec_new', 'whsec_older', 'whsec_oldest']);
  });

  it('reads a secret stored before sealing existed as it is', () => {
    expect(openSecret(box, id, 'whsec_plain')).toBe('whsec_plain');
    expect(openSecret(box, id, seal('whsec_sealed'))).toBe('whsec_sealed');
  });

  it('refuses a secret sealed for another endpoint, by class', () => {
    const other = { id, secret: seal('whsec_theirs', '0b6f5a3e-0000-4000-8000-000000000002'), previous_secrets: [] };
    expect(() => signingSecrets(box, other, now)).toThrow(SecretUnreadableError);
  });

  it('sends sealed headers over the plain ones a row from before sealing holds, and shows only their names', () => {
    const endpoint = {
      id,
      headers: { 'x-old': 'plain', authorization: 'Bearer old' },
      sealed_headers: box.sealJson({ authorization: 'Bearer t0ken' }, sealedIn.endpointHeaders(id)),
    };
    expect(endpointHeaders(box, endpoint)).toEqual({ 'x-old': 'plain', authorization: 'Bearer t0ken' });
    expect(endpointHeaders(box, { id, headers: { a: 'b' }, sealed_headers: null })).toEqual({ a: 'b' });
    expect(() => endpointHeaders(box, { ...endpoint, id: '0b6f5a3e-0000-4000-8000-000000000002' })).toThrow(SecretUnreadableError);
    expect(maskedHeaders(['authorization'])).toEqual({ authorization: '********' });
  });
});
