'use strict';
// `npm start` on a machine where nothing answers on the Postgres port: it must run the embedded
// Postgres, bring every app up, and deliver the demo's signed webhooks. Then a second start with
// the same per-user state (what a second clone or a deleted `.cache/` sees) must come up on the
// same data and key and deliver again. The broker is the one `npm test` started; everything else
// (Postgres, the apps, the demo) is what `npm start` starts itself.
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { getFreePort } = require('../lib/kafka');
const { portAnswers } = require('../lib/postgres');

const START = path.resolve(__dirname, '..', 'bin', 'start.js');
const DEMO_PORTS = [0, 1, 2, 3, 10, 11];

/** A base port whose app and demo ports are all free (the OS picks, we check the neighbours). */
async function freePortBase() {
  for (;;) {
    const base = 20_000 + crypto.randomInt(0, 20_000);
    const taken = await Promise.all(DEMO_PORTS.map((offset) => portAnswers(base + offset)));
    if (!taken.some(Boolean) && (await Promise.all(DEMO_PORTS.map((o) => canListen(base + o)))).every(Boolean)) return base;
  }
}

function canListen(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Runs `npm start`'s script in its own process group, as a terminal would, collecting its output. */
function startTocsin(env) {
  const child = spawn(process.execPath, [START], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const run = { child, output: '', exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))) };
  child.stdout.on('data', (c) => (run.output += c));
  child.stderr.on('data', (c) => (run.output += c));
  return run;
}

async function waitForLine(run, pattern, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(run.output)) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) throw new Error(`npm start exited before ${pattern}:\n${run.output}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs / 1000}s:\n${run.output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return pattern.exec(run.output);
}

/** Ctrl-C: SIGINT to the whole process group; everything it started must stop and it exits 0. */
async function interrupt(run) {
  process.kill(-run.child.pid, 'SIGINT');
  return run.exited;
}

describe('npm start without a Postgres server', () => {
  let home;
  let env;
  let embeddedPort;
  const runs = [];

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'tocsin-home-'));
    // As root the embedded server runs as the postgres user, which must reach its data folder.
    fs.chmodSync(home, 0o755);
    embeddedPort = await getFreePort();
    const { DATABASE_URL: _unset, ...inherited } = process.env;
    env = {
      ...inherited,
      TOCSIN_HOME: home,
      TOCSIN_LOCAL_POSTGRES_PORT: String(await getFreePort()), // free: nothing answers there
      TOCSIN_EMBEDDED_POSTGRES_PORT: String(embeddedPort),
      TOCSIN_PORT_BASE: String(await freePortBase()),
      TOCSIN_TOPIC_NAMESPACE: `start-${crypto.randomUUID().slice(0, 8)}`,
      TOCSIN_ADMIN_TOKEN: '',
      TOCSIN_ENCRYPTION_KEY: '',
    };
    if (!env.KAFKA_BROKERS) throw new Error('KAFKA_BROKERS is not set: run this through npm test, which starts a broker');
  });

  afterEach(async () => {
    for (const run of runs.splice(0)) {
      if (run.child.exitCode === null && run.child.signalCode === null) await interrupt(run);
    }
  }, 60_000);

  afterAll(() => {
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  const expectDelivered = async (run) => {
    const [line] = await waitForLine(run, /webhook received: downtime_started severity=P1 dedup_key=tcs_\w+ layer=transport signature (\w+)/, 150_000);
    expect(line).toMatch(/signature valid/);
  };

  it('runs the embedded Postgres, says so in one line, and the demo pages downtime_started', async () => {
    const run = startTocsin(env);
    runs.push(run);
    const [said] = await waitForLine(run, /Postgres: embedded \(nothing answers on 127\.0\.0\.1:\d+\), data in (\S+), on 127\.0\.0\.1:(\d+)/, 120_000);
    expect(said).toContain(path.join(home, 'postgres'));
    expect(said).toContain(`127.0.0.1:${embeddedPort}`);
    expect(fs.existsSync(path.join(home, 'postgres', 'PG_VERSION'))).toBe(true);
    expect(fs.statSync(path.join(home, 'encryption.key')).mode & 0o777).toBe(0o600);
    await expectDelivered(run);

    expect(await interrupt(run)).toEqual({ code: 0, signal: null });
    // What npm start started, it stopped.
    expect(await portAnswers(embeddedPort)).toBe(false);
  }, 240_000);

  it('starts again from the same per-user state (another clone, or .cache/ deleted) and delivers with the key it kept', async () => {
    const key = fs.readFileSync(path.join(home, 'encryption.key'), 'utf8');
    const run = startTocsin(env);
    runs.push(run);
    await waitForLine(run, /database schema is up to date/, 120_000);
    expect(run.output).not.toMatch(/creating the embedded Postgres cluster|generated TOCSIN_ENCRYPTION_KEY/);
    // The demo endpoint and its sealed secret come from the first run's rows.
    await expectDelivered(run);
    expect(fs.readFileSync(path.join(home, 'encryption.key'), 'utf8')).toBe(key);
    expect(await interrupt(run)).toEqual({ code: 0, signal: null });
  }, 240_000);
});
