import { toolParams } from '@tocsin/contracts';
import { diffTools, MAX_DRIFT_NAMES, toolContracts } from '../src/monitors/schema-drift';

describe('schema drift', () => {
  it('treats tools named like Object.prototype members as any other tool', () => {
    const before = toolContracts([{ name: 'search', hash: 'a' }]);
    const after = toolContracts([
      { name: 'search', hash: 'a' },
      { name: 'constructor', hash: 'b' },
      { name: '__proto__', hash: 'c' },
      { name: 'toString', hash: 'd' },
    ]);
    expect(diffTools(before, after)).toEqual({ added: ['__proto__', 'constructor', 'toString'], removed: [], changed: [], impact: 'additive', breaking: [] });
    // The same, read back from a stored snapshot (plain objects, as JSON.parse makes them).
    const stored = JSON.parse(JSON.stringify(after)) as Record<string, string>;
    expect(diffTools(stored, stored)).toEqual({ added: [], removed: [], changed: [], impact: 'additive', breaking: [] });
    expect(diffTools(stored, before)).toMatchObject({ added: [], removed: ['__proto__', 'constructor', 'toString'], changed: [], impact: 'breaking' });
  });

  it('cuts long lists and says how long they were', () => {
    const many = (prefix: string, n: number, hash: string) =>
      toolContracts(Array.from({ length: n }, (_, i) => ({ name: `${prefix}${String(i).padStart(4, '0')}`, hash })));
    const before = { ...many('old', 250, 'x'), ...many('kept', 120, 'x') };
    const after = { ...many('new', 300, 'x'), ...many('kept', 120, 'y') };
    const diff = diffTools(before, after);
    expect(diff).toMatchObject({ truncated: true, added_count: 300, removed_count: 250, changed_count: 120 });
    expect(diff.added).toHaveLength(MAX_DRIFT_NAMES);
    expect(diff.removed).toHaveLength(MAX_DRIFT_NAMES);
    expect(diff.changed).toHaveLength(MAX_DRIFT_NAMES);
    expect(diff.added[0]).toBe('new0000');
  });

  it('leaves short lists whole, without counts', () => {
    expect(diffTools({ a: '1' }, { b: '1' })).toEqual({ added: ['b'], removed: ['a'], changed: [], impact: 'breaking', breaking: ['a: removed'] });
  });

  describe('drift impact', () => {
    const tool = (hash: string, params?: Record<string, string>) => toolContracts([{ name: 'search', hash, ...(params ? { params } : {}) }]);
    const impactOf = (before: Record<string, string>, after: Record<string, string>) => {
      const { impact, breaking } = diffTools(before, after);
      return { impact, breaking };
    };

    it('calls an added tool, an added optional parameter or a reworded description additive', () => {
      expect(impactOf(tool('1', { q: 'string!' }), { ...tool('1', { q: 'string!' }), ...toolContracts([{ name: 'fetch', hash: '9' }]) })).toEqual({ impact: 'additive', breaking: [] });
      expect(impactOf(tool('1', { q: 'string!' }), tool('2', { q: 'string!', limit: 'number' }))).toEqual({ impact: 'additive', breaking: [] });
      expect(impactOf(tool('1', { q: 'string!' }), tool('2', { q: 'string!' }))).toEqual({ impact: 'additive', breaking: [] });
      // A required parameter made optional still accepts every call it did.
      expect(impactOf(tool('1', { q: 'string!' }), tool('2', { q: 'string' }))).toEqual({ impact: 'additive', breaking: [] });
    });

    it('calls a removed tool, a removed, retyped or newly required parameter breaking, and says which', () => {
      expect(impactOf(tool('1'), {})).toEqual({ impact: 'breaking', breaking: ['search: removed'] });
      expect(impactOf(tool('1', { q: 'string!', limit: 'number' }), tool('2', { q: 'string!' }))).toEqual({ impact: 'breaking', breaking: ['search.limit: removed'] });
      expect(impactOf(tool('1', { q: 'string!' }), tool('2', { q: 'number!' }))).toEqual({ impact: 'breaking', breaking: ['search.q: string → number'] });
      expect(impactOf(tool('1', { limit: 'number' }), tool('2', { limit: 'number!' }))).toEqual({ impact: 'breaking', breaking: ['search.limit: now required'] });
      expect(impactOf(tool('1', {}), tool('2', { user: 'string!' }))).toEqual({ impact: 'breaking', breaking: ['search.user: new required parameter'] });
    });

    it('judges nothing breaking from a signature it does not know, and reads old hash-only snapshots', () => {
      // A snapshot from before signatures holds the hash alone.
      expect(impactOf({ search: '1' }, tool('2', { q: 'number!' }))).toEqual({ impact: 'additive', breaking: [] });
      expect(diffTools({ search: '1' }, tool('1', { q: 'string!' })).changed).toEqual([]);
    });

    it('reads the signature of a whole tool definition from its inputSchema', () => {
      const whole = (required: string[]) =>
        toolContracts([{ name: 'search', inputSchema: { type: 'object', properties: { q: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } }, required } }]);
      expect(impactOf(whole([]), whole(['tags']))).toEqual({ impact: 'breaking', breaking: ['search.tags: now required'] });
    });
  });

  describe('toolParams', () => {
    it('lists each top-level parameter with its type and ! when required', () => {
      expect(
        toolParams({
          type: 'object',
          properties: { q: { type: 'string' }, n: { type: ['number', 'null'] }, tags: { type: 'array', items: { type: 'string' } }, mode: { enum: ['a', 'b'] }, free: {} },
          required: ['q', 'tags'],
        }),
      ).toEqual({ free: 'any', mode: 'enum', n: 'null|number', q: 'string!', tags: 'array<string>!' });
    });

    it('gives no signature for an unreadable schema or one with too many parameters', () => {
      expect(toolParams(undefined)).toBeUndefined();
      expect(toolParams({ properties: [] })).toBeUndefined();
      expect(toolParams({ properties: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, { type: 'string' }])) })).toBeUndefined();
      expect(toolParams({ type: 'object' })).toEqual({});
    });
  });
});
