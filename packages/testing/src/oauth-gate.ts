import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  bearerAuthChallengeResponse,
  getOAuthProtectedResourceMetadataUrl,
  OAuthError,
  OAuthErrorCode,
  verifyBearerToken,
  type OAuthTokenVerifier,
} from '@modelcontextprotocol/server';

/**
 * `oauth`: the server is an OAuth 2.1 resource server (MCP authorization spec): a request
 * without `Authorization: Bearer <TEST_OAUTH_TOKEN>` is answered 401 with the SDK's
 * `WWW-Authenticate: Bearer …, resource_metadata="…"` challenge.
 */
export type TestMcpAuth = 'oauth';

/** The one access token a test server with `auth: 'oauth'` accepts. */
export const TEST_OAUTH_TOKEN = 'tocsin-test-oauth-token';

const verifier: OAuthTokenVerifier = {
  verifyAccessToken(token) {
    if (token !== TEST_OAUTH_TOKEN) return Promise.reject(new OAuthError(OAuthErrorCode.InvalidToken, 'unknown access token'));
    // The SDK refuses a token without an expiry, as a real verifier reads one off the token.
    return Promise.resolve({ token, clientId: 'tocsin-test-client', scopes: [], expiresAt: Math.floor(Date.now() / 1000) + 3600 });
  },
};

/**
 * Runs the official SDK's Bearer check (the framework-free one of @modelcontextprotocol/server)
 * in front of a node:http handler. Resolves true when the request may go on; otherwise it has
 * been answered with the SDK's own challenge (status, headers and OAuth error body). The
 * metadata document the challenge names is not served: a probe never reads it.
 */
export async function passOAuthGate(req: IncomingMessage, res: ServerResponse, serverUrl: string): Promise<boolean> {
  const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(new URL(serverUrl));
  try {
    await verifyBearerToken(req.headers.authorization, { verifier, resourceMetadataUrl });
    return true;
  } catch (err) {
    const answer = bearerAuthChallengeResponse(err, { resourceMetadataUrl });
    const headers: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      headers[name] = value;
    });
    // Drained unread, so the connection can carry the client's next request.
    req.resume();
    res.writeHead(answer.status, headers).end(await answer.text());
    return false;
  }
}
