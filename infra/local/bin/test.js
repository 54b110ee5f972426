#!/usr/bin/env node
'use strict';
// `npm test`: install if needed, start a throwaway Kafka broker (unless KAFKA_BROKERS is set),
// check Postgres, then build, typecheck, lint and run every workspace's tests through turbo.
const { spawn } = require('node:child_process');
const { ROOT, say, ensureInstalled, ensureChromium } = require('../lib/setup');

async function main() {
  ensureInstalled();
  ensureChromium();
  require('../lib/tools').ensurePromtool();
  const { startInfra } = require('../lib/infra');
  const infra = await startInfra({ kafkaPort: 0 });
  let code = 1;
  try {
    code = await runTurbo(infra.env);
  } finally {
    await infra.stop();
  }
  process.exit(code);
}

/** Runs turbo, echoing its output, and closes with one summary line of every jest run. */
function runTurbo(env) {
  const args = ['turbo', 'run', 'typecheck', 'lint', 'test', '--concurrency=1', '--continue', ...process.argv.slice(2)];
  // A throwaway key: every test database is fresh, so nothing sealed with it outlives the run.
  const encryptionKey = process.env.TOCSIN_ENCRYPTION_KEY || require('node:crypto').randomBytes(32).toString('base64');
  const child = spawn('npx', args, {
    cwd: ROOT,
    env: { ...process.env, TOCSIN_ENCRYPTION_KEY: encryptionKey, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let passed = 0;
  let failed = 0;
  let partial = '';
  const scan = (chunk) => {
    const text = partial + chunk.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const summary = /Tests:\s+(.*)\d+ total/.exec(line);
      if (!summary) continue;
      failed += Number(/(\d+) failed/.exec(summary[1])?.[1] ?? 0);
      passed += Number(/(\d+) passed/.exec(summary[1])?.[1] ?? 0);
    }
  };
  child.stdout.on('data', (c) => {
    process.stdout.write(c);
    scan(c);
  });
  child.stderr.on('data', (c) => {
    process.stderr.write(c);
    scan(c);
  });
  return new Promise((resolve) => {
    child.on('close', (status) => {
      scan('\n');
      say(`turbo exited with ${status}`);
      process.stdout.write(`tests: ${passed} passed, ${failed} failed\n`);
      resolve(status === 0 && failed === 0 ? 0 : 1);
    });
  });
}

main().catch((err) => {
  process.stderr.write(`[tocsin] ${err.stack || err.message}\n`);
  process.exit(1);
});
