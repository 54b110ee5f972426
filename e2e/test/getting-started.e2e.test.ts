import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateWebhookSecret, signWebhook } from '@tocsin/signing';
import { waitFor } from '@tocsin/testing';

interface Snippet {
  readonly language: string;
  readonly file: string;
  readonly command: (file: string) => [string, string[]];
}

const RUNTIMES: Record<string, Omit<Snippet, 'language'>> = {
  js: { file: 'receiver.js', command: (f) => [process.execPath, [f]] },
  python: { file: 'receiver.py', command: (f) => ['python3', [f]] },
  go: { file: 'receiver.go', command: (f) => ['go', ['run', f]] },
};

/** The receiver snippets exactly as docs/getting-started.md shows them (blocks tagged `receiver`). */
function snippets(): Array<Snippet & { code: string }> {
  const doc = readFileSync(resolve(__dirname, '../../docs/getting-started.md'), 'utf8');
  return [...doc.matchAll(/```(\w+) receiver\n([\s\S]*?)```/g)].map((m) => ({ language: m[1]!, code: m[2]!, ...RUNTIMES[m[1]!]! }));
}

function installed(command: string): boolean {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0 || spawnSync(command, ['version'], { stdio: 'ignore' }).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

describe('the receiver snippets of docs/getting-started.md verify real Tocsin signatures', () => {
  it('shows a Node, a Python and a Go receiver', () => {
    expect(snippets().map((s) => s.language)).toEqual(['js', 'python', 'go']);
  });

  const runnable = snippets().filter((s) => installed(s.command('')[0]));
  it('can run at least Node and Python here', () => {
    expect(runnable.map((s) => s.language)).toEqual(expect.arrayContaining(['js', 'python']));
  });

  for (const snippet of runnable) {
    describe(snippet.language, () => {
      let dir: string;
      let child: ChildProcess;
      let output = '';
      let url: string;
      const secret = generateWebhookSecret();

      beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), 'tocsin-receiver-'));
        const file = join(dir, snippet.file);
        writeFileSync(file, snippet.code);
        const port = await freePort();
        const [command, args] = snippet.command(file);
        child = spawn(command, args, { env: { ...process.env, PORT: String(port), TOCSIN_SECRET: secret }, stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
        child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
        await waitFor(() => output.includes('listening'), { description: `${snippet.language} receiver listening`, timeoutMs: 60_000 });
        url = `http://127.0.0.1:${port}/hook`;
      }, 90_000);

      afterAll(() => {
        child?.kill();
        rmSync(dir, { recursive: true, force: true });
      });

      const post = (body: string, headers: Record<string, string>) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

      const alert = (event: string) =>
        JSON.stringify({ event, event_id: randomUUID(), dedup_key: `t:m:${event.length}`, severity: 'P1', note: 'é ✓' });

      it('accepts a webhook signed by Tocsin and prints it', async () => {
        const body = alert('downtime_started');
        const res = await post(body, { ...signWebhook({ webhookId: randomUUID(), timestamp: new Date(), body, secrets: [secret] }) });
        expect(res.status).toBe(204);
        await waitFor(() => output.includes('downtime_started P1 t:m:16'), { description: 'the receiver printed the alert' });
      });

      it('accepts during a secret rotation, when its secret is the older of two signatures', async () => {
        const body = alert('downtime_resolved');
        const headers = signWebhook({ webhookId: randomUUID(), timestamp: new Date(), body, secrets: [generateWebhookSecret(), secret] });
        expect((await post(body, { ...headers })).status).toBe(204);
      });

      it('refuses a tampered body, a wrong secret, a missing signature and a stale timestamp', async () => {
        const body = alert('downtime_started');
        const signed = { ...signWebhook({ webhookId: randomUUID(), timestamp: new Date(), body, secrets: [secret] }) };
        expect((await post(body.replace('P1', 'P3'), signed)).status).toBe(401);
        const wrong = { ...signWebhook({ webhookId: randomUUID(), timestamp: new Date(), body, secrets: [generateWebhookSecret()] }) };
        expect((await post(body, wrong)).status).toBe(401);
        expect((await post(body, {})).status).toBe(401);
        const stale = { ...signWebhook({ webhookId: randomUUID(), timestamp: new Date(Date.now() - 600_000), body, secrets: [secret] }) };
        expect((await post(body, stale)).status).toBe(401);
      });
    });
  }
});
