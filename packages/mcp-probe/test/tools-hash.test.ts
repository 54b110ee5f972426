import { canonicalJson, hashTools } from '../src';

describe('hashTools', () => {
  it('ignores tool order and key order, but not content', () => {
    const a = [
      { name: 'b', inputSchema: { type: 'object', properties: { x: { type: 'string' } } } },
      { name: 'a', description: 'first' },
    ];
    const b = [
      { description: 'first', name: 'a' },
      { inputSchema: { properties: { x: { type: 'string' } }, type: 'object' }, name: 'b' },
    ];
    const changed = [{ name: 'a', description: 'first' }, { name: 'b', inputSchema: { type: 'object' } }];

    expect(hashTools(a)).toBe(hashTools(b));
    expect(hashTools(a)).not.toBe(hashTools(changed));
  });

  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: undefined })).toBe('{"b":[{"c":2,"d":1}]}');
  });
});
