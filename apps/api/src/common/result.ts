/** A refusal a handler returns instead of throwing; the controller turns it into HTTP. */
export interface Refusal {
  readonly ok: false;
  readonly status: 400 | 404 | 409;
  readonly field?: string;
  readonly message: string;
}

export type Outcome<T> = { readonly ok: true; readonly value: T } | Refusal;

export const refuse = (status: Refusal['status'], message: string, field?: string): Refusal => ({
  ok: false,
  status,
  message,
  ...(field ? { field } : {}),
});
