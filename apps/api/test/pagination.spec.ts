import { byCreation, CursorError, decodeCursor, toPage } from '../src/common/pagination';

describe('keyset pagination', () => {
  const rows = [1, 2, 3].map((n) => ({ id: `id-${n}`, created_at: new Date(Date.UTC(2026, 0, n)) }));

  it('returns a cursor only when another page exists, encoding the last row shown', () => {
    const page = toPage(rows, 2, (r) => r.id, byCreation);
    expect(page.data).toEqual(['id-1', 'id-2']);
    expect(decodeCursor(page.next_cursor!)).toEqual({ at: '2026-01-02T00:00:00.000Z', id: 'id-2' });
    expect(toPage(rows.slice(0, 2), 2, (r) => r.id, byCreation).next_cursor).toBeNull();
  });

  it('rejects cursors it did not issue', () => {
    expect(() => decodeCursor('garbage')).toThrow(CursorError);
    expect(() => decodeCursor(Buffer.from('{"at":"never","id":"x"}').toString('base64url'))).toThrow(CursorError);
    expect(decodeCursor(undefined)).toBeUndefined();
  });
});
