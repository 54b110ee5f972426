#!/usr/bin/env node
'use strict';
// Developer CLI for the local broker:
//   node infra/local/bin/kafka.js start [--port 9092]   foreground; Ctrl-C stops it
//   node infra/local/bin/kafka.js stop [--port 9092]    stops the broker `start` runs on that port
const { startKafka, stopRunningBrokers } = require('../lib/kafka');

const log = (msg) => console.error(`[kafka] ${msg}`);

function parsePort(args) {
  const i = args.indexOf('--port');
  if (i === -1) return 9092;
  const port = Number(args[i + 1]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`Invalid --port ${args[i + 1]}`);
  return port;
}

async function start(args) {
  const kafka = await startKafka({ port: parsePort(args), log });
  console.log(`KAFKA_BROKERS=${kafka.brokers}`);
  log('Running; Ctrl-C to stop.');

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    log('Stopping...');
    await kafka.stop();
    log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  const { code, signal } = await kafka.exited;
  if (stopping) return;
  // 143/130: the JVM shut down on SIGTERM/SIGINT, e.g. from `kafka.js stop` in another terminal.
  if ([0, 130, 143].includes(code)) {
    await kafka.stop();
    log('Kafka was stopped.');
    process.exit(0);
  }
  log(`Kafka exited unexpectedly (code ${code}, signal ${signal}); its log is ${kafka.logFile}`);
  process.exit(1);
}

async function main() {
  const [command, ...args] = process.argv.slice(2);
  if (command === 'start') return start(args);
  if (command === 'stop') {
    const n = await stopRunningBrokers({ port: parsePort(args), log });
    log(n === 0 ? 'No local Kafka broker started by this harness runs on that port.' : 'Stopped.');
    return;
  }
  console.error('Usage: node infra/local/bin/kafka.js start|stop [--port 9092]');
  process.exitCode = 2;
}

main().catch((e) => {
  console.error(`[kafka] ${e.message}`);
  process.exit(1);
});
