#!/usr/bin/env node
'use strict';
// `npm start`: install and build if needed, start Kafka (unless KAFKA_BROKERS), use DATABASE_URL,
// the Postgres on 127.0.0.1:5432 or an embedded one, migrate, run every app and the demo;
// Ctrl-C stops it all.
const crypto = require('node:crypto');
const path = require('node:path');
const { ROOT, say, ensureInstalled, build, spawnLogged } = require('../lib/setup');
const { localEncryptionKey } = require('../lib/local-state');

// TOCSIN_PORT_BASE moves every local port at once (apps from it, the demo from it + 10).
const PORT_BASE = Number(process.env.TOCSIN_PORT_BASE || 8080);
const APPS = [
  { name: 'api', port: Number(process.env.PORT || PORT_BASE) },
  { name: 'probe-ingest', port: PORT_BASE + 1 },
  { name: 'severity-router', port: PORT_BASE + 2 },
  { name: 'dispatcher', port: PORT_BASE + 3 },
];
const LOG_DIR = path.join(ROOT, '.cache', 'logs');

/** Node flags an app declares in its package.json ("tocsin": { "nodeOptions" }), e.g. a heap bound. */
function appNodeOptions(name) {
  return require(path.join(ROOT, 'apps', name, 'package.json')).tocsin?.nodeOptions ?? [];
}

/** A child ended by a signal (Ctrl-C reaches the whole process group) has no exit code, only a signal. */
const hasExited = (child) => child.exitCode !== null || child.signalCode !== null;

async function waitReady(url, child, name, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(child)) throw new Error(`${name} exited with ${child.exitCode ?? child.signalCode}; see ${LOG_DIR}/${name}.log`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${name} was not ready after ${timeoutMs / 1000}s; see ${LOG_DIR}/${name}.log`);
}

async function main() {
  ensureInstalled();
  build();
  const { startInfra } = require('../lib/infra');
  const { startDemo } = require('../lib/demo');
  const { prepareDatabase } = require('@tocsin/database');

  const cleanups = [];
  let stopping = false;
  const stopAll = async (code) => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => say(`while stopping: ${err.message}`));
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const infra = await startInfra({ kafkaPort: 9092 });
    cleanups.push(infra.stop);
    const adminToken = process.env.TOCSIN_ADMIN_TOKEN || crypto.randomBytes(24).toString('base64url');
    const env = {
      ...process.env,
      ...infra.env,
      // A laptop's apps, with private URLs allowed, are for this machine only; containers set HOST themselves.
      HOST: process.env.HOST || '127.0.0.1',
      TOCSIN_ADMIN_TOKEN: adminToken,
      TOCSIN_ENCRYPTION_KEY: process.env.TOCSIN_ENCRYPTION_KEY || localEncryptionKey(),
      TOCSIN_ALLOW_PRIVATE_URLS: process.env.TOCSIN_ALLOW_PRIVATE_URLS || 'true',
      TOCSIN_MIN_INTERVAL_SECONDS: process.env.TOCSIN_MIN_INTERVAL_SECONDS || '1',
      TOCSIN_MIGRATE_ON_BOOT: 'false',
      TOCSIN_DASHBOARD_URL: process.env.TOCSIN_DASHBOARD_URL || `http://127.0.0.1:${APPS[0].port}`,
    };
    say('migrating the database…');
    const applied = await prepareDatabase(env.DATABASE_URL);
    say(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');

    for (const app of APPS) {
      const child = spawnLogged(process.execPath, [...appNodeOptions(app.name), path.join(ROOT, 'apps', app.name, 'dist', 'main.js')], {
        env: { ...env, PORT: String(app.port) },
        logFile: path.join(LOG_DIR, `${app.name}.log`),
      });
      cleanups.push(
        () =>
          new Promise((resolve) => {
            if (hasExited(child)) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      );
      child.once('exit', (code) => {
        if (!stopping) {
          say(`${app.name} exited unexpectedly (${code}); see ${LOG_DIR}/${app.name}.log`);
          void stopAll(1);
        }
      });
      app.child = child;
    }
    for (const app of APPS) {
      await waitReady(`http://127.0.0.1:${app.port}/health/ready`, app.child, app.name);
      say(`${app.name} ready on :${app.port} (logs: .cache/logs/${app.name}.log)`);
    }

    const apiUrl = `http://127.0.0.1:${APPS[0].port}`;
    const demo = await startDemo({ apiUrl, adminToken, receiverPort: PORT_BASE + 10, mcpPort: PORT_BASE + 11 });
    cleanups.push(demo.stop);
    say('');
    say(`API        ${apiUrl}/v1   (OpenAPI: ${apiUrl}/docs)`);
    say(`admin      TOCSIN_ADMIN_TOKEN=${adminToken}`);
    say(`demo key   ${demo.apiKey}`);
    say(`try        curl -s -H "Authorization: Bearer ${demo.apiKey}" ${apiUrl}/v1/incidents`);
    say('Ctrl-C stops everything this started.');
    say('');
  } catch (err) {
    say(`start failed: ${err.message}`);
    await stopAll(1);
  }
}

main();
