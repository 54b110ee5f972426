import { ADMIN_TOKEN } from './stack';

export interface ApiResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

/** A thin JSON client over the real HTTP API, as an operator's curl would use it. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T, headers: res.headers };
  }

  get<T = Record<string, unknown>>(path: string) {
    return this.call<T>('GET', path);
  }

  post<T = Record<string, unknown>>(path: string, body: unknown) {
    return this.call<T>('POST', path, body);
  }

  /** Creates a tenant and an API key through the admin routes, and returns a client for it. */
  static async tenant(baseUrl: string, name: string): Promise<{ client: ApiClient; tenantId: string; key: string }> {
    const admin = new ApiClient(baseUrl, ADMIN_TOKEN);
    const tenant = await admin.post<{ id: string }>('/v1/tenants', { name });
    if (tenant.status !== 201) throw new Error(`creating tenant failed: ${tenant.status} ${JSON.stringify(tenant.body)}`);
    const key = await admin.post<{ key: string }>(`/v1/tenants/${tenant.body.id}/api-keys`, {});
    if (key.status !== 201) throw new Error(`issuing key failed: ${key.status} ${JSON.stringify(key.body)}`);
    return { client: new ApiClient(baseUrl, key.body.key), tenantId: tenant.body.id, key: key.body.key };
  }
}
