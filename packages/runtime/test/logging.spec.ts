import type { Server } from 'node:http';
import pinoHttp from 'pino-http';
import { redactUrl, requestLogOptions } from '../src/logging';
import { jsonLines, listen } from './json-log';

describe('the request log', () => {
  const { lines, sink } = jsonLines();
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const log = pinoHttp(requestLogOptions({ LOG_LEVEL: 'info' }, 'test'), sink);
    ({ server, base } = await listen((req, res) => {
      log(req, res);
      res.statusCode = 202;
      res.end('{}');
    }));
  });

  afterAll(async () => {
    await new Promise((closed) => server.close(closed));
  });

  const token = 'Tk_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY';

  async function logged(path: string): Promise<string> {
    const before = lines.length;
    await (await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: 'Bearer tk_live_key' }, body: '{}' })).text();
    const written = lines.slice(before);
    expect(written).toHaveLength(1);
    return JSON.stringify(written[0]);
  }

  it('never writes a receiver token, in any case or mount of the path', async () => {
    for (const path of [`/v1/hooks/incoming/${token}`, `/V1/Hooks/Incoming/${token}?x=1`, `//v1/hooks/incoming/${token}/`]) {
      const line = await logged(path);
      expect(line).not.toContain(token);
      expect(line).toContain('[redacted]');
      expect(line).not.toContain('tk_live_key');
    }
  });

  it('keeps the path of other routes, and drops credential-like query values only', async () => {
    const line = await logged('/v1/incidents?limit=5&api_key=sekrit&access_token=t0k&cursor=abc');
    expect(line).toContain('/v1/incidents?limit=5&api_key=[redacted]&access_token=[redacted]&cursor=abc');
    expect(line).not.toMatch(/sekrit|t0k\b/);
  });

  it('redacts without ever throwing on odd URLs', () => {
    expect(redactUrl('/v1/hooks/incoming/')).toBe('/v1/hooks/incoming/[redacted]');
    expect(redactUrl('/x?%E0%A4%A=1&tok%65n=s')).toBe('/x?%E0%A4%A=1&tok%65n=[redacted]');
    expect(redactUrl('/x?flag&secret')).toBe('/x?flag&secret');
  });
});
