import type { StepRecord } from './step-recorder';

/**
 * Whether a `WWW-Authenticate` value carries a Bearer challenge (RFC 6750 §3), alone or
 * among others (`Basic realm="x", Bearer resource_metadata="…"`). Quoted auth-params are
 * blanked first, so a realm that merely mentions "Bearer" does not count.
 */
export function isBearerChallenge(header: string | null | undefined): boolean {
  if (!header) return false;
  const unquoted = header.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return /(?:^|,)\s*bearer(?=\s|,|$)/i.test(unquoted);
}

/**
 * An OAuth-protected MCP server (MCP authorization spec) answers a request without a token
 * with 401 and a Bearer challenge: it is up, and only its protected surface is out of reach.
 * That holds for the attempt's first request only, and only when the probe sent no
 * credentials: a 401 to a configured Authorization header means the token was refused,
 * which is an outage of the monitor's check, and a 401 after the server had already
 * answered is not an auth gate.
 */
export function isAuthGate(attemptSteps: readonly StepRecord[], failing: StepRecord | undefined, headers: Record<string, string>): boolean {
  return (
    failing !== undefined &&
    failing === attemptSteps[0] &&
    failing.http_status === 401 &&
    failing.bearer_challenge === true &&
    !Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')
  );
}
