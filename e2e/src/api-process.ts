import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from '@tocsin/testing';
import type { Stack } from './stack';

export interface ApiProcess {
  readonly url: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/**
 * The built API (`apps/api/dist/main.js`) as its own process, as `npm start` runs it, on the
 * stack's database, broker and topic namespace, listening on a free port.
 */
export async function startApiProcess(stack: Stack, env: Record<string, string> = {}): Promise<ApiProcess> {
  const { config } = stack;
  const child: ChildProcess = spawn(process.execPath, [resolve(__dirname, '../../apps/api/dist/main.js')], {
    env: {
      ...process.env,
      DATABASE_URL: stack.database.url,
      KAFKA_BROKERS: config.KAFKA_BROKERS.join(','),
      TOCSIN_TOPIC_NAMESPACE: config.TOCSIN_TOPIC_NAMESPACE,
      TOCSIN_TOPIC_PARTITIONS: String(config.TOCSIN_TOPIC_PARTITIONS),
      TOCSIN_ALLOW_PRIVATE_URLS: String(config.TOCSIN_ALLOW_PRIVATE_URLS),
      TOCSIN_MIN_INTERVAL_SECONDS: String(config.TOCSIN_MIN_INTERVAL_SECONDS),
      TOCSIN_ADMIN_TOKEN: config.TOCSIN_ADMIN_TOKEN ?? '',
      TOCSIN_ENCRYPTION_KEY: config.TOCSIN_ENCRYPTION_KEY ?? '',
      TOCSIN_MIGRATE_ON_BOOT: 'false',
      LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the API process exited: ${output.slice(-2000)}`);
      return /listening on (http:\/\/[^\s"]+)/.exec(output)?.[1]?.replace('[::1]', '127.0.0.1');
    },
    { description: 'the API process listening', timeoutMs: 60_000 },
  );
  return {
    url,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killed);
    },
  };
}
