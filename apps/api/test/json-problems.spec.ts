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

  it('names the field holding a lone surrogate, in values and in keys, but not a whole pair', () => {
    expect(findJsonProblem({ name: 'x\ud800' })).toEqual({ kind: 'surrogate', where: 'name' });
    expect(findJsonProblem({ mapping: { '\udc00up': 'operational' } })).toMatchObject({ kind: 'surrogate' });
    expect(findJsonProblem({ name: '\ud83d\ude00' })).toBeNull();
  });

  it('checks only the depth of a body carrying another system\'s text', () => {
    expect(findJsonProblem({ error: 'a\u0000\ud800' }, { text: false })).toBeNull();
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = { a: deep };
    expect(findJsonProblem(deep, { text: false })).toMatchObject({ kind: 'depth' });
  });

  it('lets ordinary bodies through', () => {
    expect(findJsonProblem({ name: 'é ✓ \ud83d\ude00', tags: ['a', 'b'], n: 1, ok: true, none: null })).toBeNull();
  });
});
