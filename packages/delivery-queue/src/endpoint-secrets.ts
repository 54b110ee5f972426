import type { PreviousSecret } from '@tocsin/database';
import { isSealed, sealedIn, type SecretBox } from '@tocsin/secrets';

/**
 * Opens an endpoint's stored signing secret (current or previous); a row written before
 * sealing existed is read as it is. Throws SecretUnreadableError when it cannot be opened.
 */
export function openSecret(box: SecretBox, endpointId: string, stored: string): string {
  return isSealed(stored) ? box.open(stored, sealedIn.endpointSecret(endpointId)) : stored;
}

/**
 * The secrets an attempt signs with, newest first: the current one, then every replaced
 * one whose overlap window has not yet ended. Throws SecretUnreadableError when one of them
 * cannot be opened: the attempt fails with the class `secret_unreadable`, for this endpoint
 * alone.
 */
export function signingSecrets(
  box: SecretBox,
  endpoint: { readonly id: string; readonly secret: string; readonly previous_secrets: readonly PreviousSecret[] },
  now: Date,
): string[] {
  const previous = endpoint.previous_secrets
    .filter((p) => Date.parse(p.expires_at) > now.getTime())
    .sort((a, b) => Date.parse(b.expires_at) - Date.parse(a.expires_at))
    .map((p) => openSecret(box, endpoint.id, p.secret));
  return [openSecret(box, endpoint.id, endpoint.secret), ...previous];
}

/**
 * The custom headers an attempt sends: the sealed ones, over any plain ones a row written
 * before headers were sealed still holds (until the start-up re-seal moves them). Throws
 * SecretUnreadableError like {@link signingSecrets}.
 */
export function endpointHeaders(
  box: SecretBox,
  endpoint: { readonly id: string; readonly headers: Readonly<Record<string, string>>; readonly sealed_headers: string | null },
): Record<string, string> {
  if (endpoint.sealed_headers === null) return { ...endpoint.headers };
  return { ...endpoint.headers, ...box.openJson<Record<string, string>>(endpoint.sealed_headers, sealedIn.endpointHeaders(endpoint.id)) };
}

/**
 * The endpoint's custom headers as answers other than the secret-reveal route show them:
 * every name, no value.
 */
export function maskedHeaders(headerNames: readonly string[]): Record<string, string> {
  return Object.fromEntries(headerNames.map((name) => [name, MASK]));
}

export const MASK = '********';

export * from './reseal';
