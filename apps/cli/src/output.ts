import Table from 'cli-table3';

/** How a value prints for people: a list as a table of these columns, or one record as key/value rows. */
export type Shape = { readonly list: readonly string[] } | { readonly record: true } | { readonly message: (value: never) => string };

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function render(value: unknown, shape: Shape): string {
  if ('message' in shape) return (shape.message as (v: unknown) => string)(value);
  if ('list' in shape) {
    const page = value as { data?: Array<Record<string, unknown>>; next_cursor?: string | null };
    const rows = page.data ?? (Array.isArray(value) ? (value as Array<Record<string, unknown>>) : []);
    const table = new Table({ head: [...shape.list], style: { head: [], border: [] } });
    for (const row of rows) table.push(shape.list.map((c) => cell(row[c])));
    const more = page.next_cursor ? `\nmore: --cursor ${page.next_cursor}` : '';
    return rows.length ? `${table.toString()}${more}` : 'none';
  }
  const table = new Table({ style: { head: [], border: [] } });
  for (const [key, v] of Object.entries((value ?? {}) as Record<string, unknown>)) table.push({ [key]: cell(v) });
  return table.toString();
}

export function print(value: unknown, shape: Shape, json: boolean): void {
  process.stdout.write(`${json ? JSON.stringify(value ?? null, null, 2) : render(value, shape)}\n`);
}
