import fc from 'fast-check';
import { Client } from 'pg';
import { cutText, isStorableText, parseStorableJson, storableJson, storableText, storableUtf8, TooDeepError } from '../src';

/** Any UTF-16 unit (lone surrogates and NUL included) beside whole code points. */
const anyUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\u0000', '\ud800', '\udfff', '\ud83d', '\ude00'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const anyString = fc.string({ unit: anyUnit, maxLength: 40 });
/** Independent of the code under test: encodeURIComponent throws on a lone surrogate. */
function isWellFormed(s: string): boolean {
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}
const wellFormed = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\u0000'));

describe('storableText', () => {
  it('passes valid text unchanged', () => {
    fc.assert(fc.property(wellFormed, (s) => storableText(s) === s && isStorableText(s)));
  });

  it('makes any string storable: no NUL, no lone surrogate', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const clean = storableText(s);
        return !clean.includes('\u0000') && isWellFormed(clean) && isStorableText(clean);
      }),
    );
  });

  it('cuts on code point boundaries', () => {
    fc.assert(
      fc.property(anyString, fc.integer({ min: 0, max: 50 }), (s, max) => {
        const cut = storableText(s, max);
        return cut.length <= max && isWellFormed(cut);
      }),
    );
    expect(cutText('ab😀', 3)).toBe('ab');
    expect(storableText('x\ud800', 10)).toBe('x\ufffd');
    expect(storableText('a\u0000b')).toBe('ab');
  });

  it('decodes a byte prefix without a broken last character', () => {
    const bytes = Buffer.from('ok 😀 é', 'utf8');
    for (let n = 0; n <= bytes.length; n++) {
      const text = storableUtf8(bytes, n);
      expect(text.includes('\ufffd')).toBe(false);
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(n);
      expect('ok 😀 é'.startsWith(text)).toBe(true);
    }
  });
});

describe('storableJson', () => {
  it('returns the same object when nothing changes, a clean copy otherwise', () => {
    const value = { a: ['x', 1, { b: 'y' }], c: null };
    expect(storableJson(value)).toBe(value);
    const dirty = { 'k\u0000': ['x\ud800'], __proto__key: 1 };
    expect(storableJson(dirty)).toEqual({ k: ['x\ufffd'], __proto__key: 1 });
    expect(dirty['k\u0000']).toEqual(['x\ud800']);
  });

  it('keeps a __proto__ member as data', () => {
    const parsed = parseStorableJson('{"__proto__": {"x": "\\u0000"}, "y": 1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toEqual({ x: '' });
  });

  it('refuses nesting past its bound rather than overflowing the stack', () => {
    const deep = '['.repeat(5_000) + '"\\u0000"' + ']'.repeat(5_000);
    expect(() => parseStorableJson(deep)).toThrow(TooDeepError);
  });
});

/** The property that matters, checked by Postgres itself: whatever comes in, text and jsonb take it. */
describe('storable in Postgres', () => {
  let client: Client;

  beforeAll(async () => {
    const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tocsin');
    url.pathname = '/postgres';
    client = new Client({ connectionString: url.toString() });
    await client.connect();
    await client.query('CREATE TEMP TABLE storable (t text, j jsonb)');
  });

  afterAll(async () => {
    await client?.end();
  });

  it('stores every cleaned string in a text and a jsonb column, as it was cleaned', async () => {
    const samples = fc.sample(fc.array(anyString, { minLength: 1, maxLength: 5 }), 300);
    for (const strings of samples) {
      const clean = storableJson({ list: strings, [strings[0]!]: strings.at(-1) });
      const text = strings.map((s) => storableText(s)).join('|');
      const { rows } = await client.query<{ t: string; j: unknown }>('INSERT INTO storable VALUES ($1, $2::jsonb) RETURNING t, j', [
        text,
        JSON.stringify(clean),
      ]);
      expect(rows[0]!.t).toBe(text);
      expect(rows[0]!.j).toEqual(clean);
    }
  });

  it('refuses the uncleaned forms, so the test above can fail', async () => {
    await expect(client.query('SELECT $1::jsonb', [JSON.stringify({ x: 'a\ud800' })])).rejects.toThrow();
    await expect(client.query('SELECT $1::jsonb', [JSON.stringify({ x: 'a\u0000' })])).rejects.toThrow();
    await expect(client.query('SELECT $1::text', ['a\u0000'])).rejects.toThrow();
  });
});
