import { createHash } from 'node:crypto';
import { canonicalJson, hashTool, hashTools, summarizeTools } from '../src';

describe('tool hashes', () => {
  const search = {
    name: 'search',
    description: 'Full-text search.',
    inputSchema: { type: 'object', properties: { q: { type: 'string' }, n: { type: 'number' } }, required: ['q', 'n'] },
  };
  const fetchTool = { name: 'fetch', inputSchema: { type: 'object', properties: { id: { type: 'string' } } } };

  it('ignores tool order, key order and the order of a required list', () => {
    const reordered = {
      inputSchema: { required: ['n', 'q'], properties: { n: { type: 'number' }, q: { type: 'string' } }, type: 'object' },
      description: 'Full-text search.',
      name: 'search',
    };
    expect(hashTool(reordered)).toBe(hashTool(search));
    expect(hashTools(summarizeTools([search, fetchTool]))).toBe(hashTools(summarizeTools([fetchTool, reordered])));
  });

  it('changes the hash of exactly the changed tool, and the list hash', () => {
    const changed = { ...search, description: 'Search, now fuzzy.' };
    const before = summarizeTools([search, fetchTool]);
    const after = summarizeTools([fetchTool, changed]);

    expect(after.map((t) => t.name)).toEqual(['fetch', 'search']);
    expect(after[0]?.hash).toBe(before[0]?.hash);
    expect(after[1]?.hash).not.toBe(before[1]?.hash);
    expect(hashTools(after)).not.toBe(hashTools(before));
  });

  it('leaves _meta and unknown extras out of a tool contract', () => {
    expect(hashTool({ ...search, _meta: { 'x-build': 42 } })).toBe(hashTool(search));
  });

  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: undefined })).toBe('{"b":[{"c":2,"d":1}]}');
  });

  it("sends each tool's call signature, and keeps the list hash the one sent before signatures", () => {
    const [summary] = summarizeTools([{ name: 'get', inputSchema: { type: 'object', properties: { id: { type: 'string' }, full: { type: 'boolean' } }, required: ['id'] } }]);
    expect(summary!.params).toEqual({ full: 'boolean', id: 'string!' });
    // What the list hash was before params: sha256 over the sorted {name, hash} pairs.
    const expected = createHash('sha256').update(JSON.stringify([{ hash: summary!.hash, name: 'get' }])).digest('hex');
    expect(hashTools([summary!])).toBe(expected);
  });
});
