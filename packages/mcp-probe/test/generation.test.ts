import { generationFromInitialize } from '../src/generation';

describe('generationFromInitialize', () => {
  it('reads the generation off the initialize reply', () => {
    const result = (protocolVersion: string) => ({ jsonrpc: '2.0' as const, id: 1, result: { protocolVersion } });
    expect(generationFromInitialize(undefined)).toBe('unknown');
    expect(generationFromInitialize(result('2025-06-18'))).toBe('handshake');
    expect(generationFromInitialize(result('2026-07-28'))).toBe('stateless');
  });

  it('recognises a server that rejects initialize and names only stateless versions', () => {
    const error = (data: unknown) => ({
      jsonrpc: '2.0' as const,
      id: 1,
      error: { code: -32602, message: 'Unsupported protocol version', data },
    });
    expect(generationFromInitialize(error({ supported: ['2026-07-28'] }))).toBe('stateless');
    expect(generationFromInitialize(error({ supported: ['2025-11-25', '2026-07-28'] }))).toBe('handshake');
    expect(generationFromInitialize(error(undefined))).toBe('unknown');
  });
});
