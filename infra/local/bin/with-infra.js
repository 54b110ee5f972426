#!/usr/bin/env node
'use strict';
// Runs a command with Kafka and Postgres up (e.g. the benchmarks): node with-infra.js <cmd> [args…]
const { spawn } = require('node:child_process');
const { ROOT, ensureInstalled } = require('../lib/setup');

async function main() {
  const [cmd, ...args] = process.argv.slice(2);
  if (!cmd) throw new Error('usage: with-infra.js <command> [args…]');
  ensureInstalled();
  const { startInfra } = require('../lib/infra');
  const infra = await startInfra({ kafkaPort: 0 });
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...infra.env }, stdio: 'inherit' });
  const code = await new Promise((resolve) => child.on('close', (status) => resolve(status ?? 1)));
  await infra.stop();
  process.exit(code);
}

main().catch((err) => {
  process.stderr.write(`[tocsin] ${err.stack || err.message}\n`);
  process.exit(1);
});
