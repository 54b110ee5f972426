import { findJsonProblem, MAX_JSON_DEPTH } from '../src/common/reject-nul.middleware';

describe('JSON a request may not carry', () => {
  it('names the field holding a NUL character, in values and in keys', () => {
    expect(findJsonProblem({ results: [{ error: 'a\u0000b' }] })).toEqual({ kind: 'nul', where: 'results.0.error' });
    expect(findJsonProblem({ headers: { 'x\u0000': 'v' } })).toEqual({ kind: 'nul', where: 'headers."x\\u0000"' });
  });

  it('refuses nesting past the limit without recursing itself', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(findJsonProblem(deep)).toMatchObject({ kind: 'depth' });
    let fine: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH - 1; i++) fine = { a: fine };
    expect(findJsonProblem(fine)).toBeNull();
  });

  it('lets ordinary bodies through', () => {
    expect(findJsonProblem({ name: 'é ✓ \ud83d\ude00', tags: ['a', 'b'], n: 1, ok: true, none: null })).toBeNull();
  });
});
