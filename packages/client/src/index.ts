import createClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './generated/openapi';

export type { components, operations, paths };
/** The API's named answers: `Schemas['Monitor']`, `Schemas['Endpoint']`, `Schemas['Error']` … */
export type Schemas = components['schemas'];
export type ApiErrorBody = Schemas['Error'];
export type TocsinClient = Client<paths>;

export interface ClientOptions {
  /** Where the API listens, e.g. http://127.0.0.1:8080 (no trailing /v1). */
  readonly baseUrl: string;
  /** A tenant API key, or the admin token for the /v1/tenants routes. */
  readonly token?: string;
  readonly fetch?: typeof globalThis.fetch;
}

/**
 * A typed client of /v1: paths, parameters, bodies and answers come from docs/openapi.json,
 * so a route that changes breaks its callers at compile time.
 */
export function createTocsinClient(options: ClientOptions): TocsinClient {
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** A refusal from the API, with its status and `{statusCode, error, message, details?}` body. */
export class TocsinApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(`${status} ${body.error}: ${body.message}`);
    this.name = 'TocsinApiError';
  }
}

interface FetchOutcome<T> {
  readonly data?: T;
  readonly error?: unknown;
  readonly response: Response;
}

/** Awaits a client call and answers its data, or throws TocsinApiError for a refusal. */
export async function ok<T>(call: Promise<FetchOutcome<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  throw new TocsinApiError(response.status, asErrorBody(response, error));
}

function asErrorBody(response: Response, error: unknown): ApiErrorBody {
  const body = error as Partial<ApiErrorBody> | undefined;
  if (body && typeof body === 'object' && typeof body.message === 'string') {
    return { statusCode: body.statusCode ?? response.status, error: body.error ?? response.statusText, message: body.message, details: body.details };
  }
  return {
    statusCode: response.status,
    error: response.statusText,
    message: typeof error === 'string' && error ? error : `HTTP ${response.status}`,
  };
}
