import { diffTools, MAX_DRIFT_NAMES, toolHashes } from '../src/monitors/schema-drift';

describe('schema drift', () => {
  it('treats tools named like Object.prototype members as any other tool', () => {
    const before = toolHashes([{ name: 'search', hash: 'a' }]);
    const after = toolHashes([
      { name: 'search', hash: 'a' },
      { name: 'constructor', hash: 'b' },
      { name: '__proto__', hash: 'c' },
      { name: 'toString', hash: 'd' },
    ]);
    expect(diffTools(before, after)).toEqual({ added: ['__proto__', 'constructor', 'toString'], removed: [], changed: [] });
    // The same, read back from a stored snapshot (plain objects, as JSON.parse makes them).
    const stored = JSON.parse(JSON.stringify(after)) as Record<string, string>;
    expect(diffTools(stored, stored)).toEqual({ added: [], removed: [], changed: [] });
    expect(diffTools(stored, before)).toEqual({ added: [], removed: ['__proto__', 'constructor', 'toString'], changed: [] });
  });

  it('cuts long lists and says how long they were', () => {
    const many = (prefix: string, n: number, hash: string) =>
      toolHashes(Array.from({ length: n }, (_, i) => ({ name: `${prefix}${String(i).padStart(4, '0')}`, hash })));
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
    expect(diffTools({ a: '1' }, { b: '1' })).toEqual({ added: ['b'], removed: ['a'], changed: [] });
  });
});
