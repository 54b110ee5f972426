'use strict';
// Steps both `npm start` and `npm test` take on a fresh clone: install, build, browsers.
const { spawnSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../../..');

function say(line) {
  process.stdout.write(`[tocsin] ${line}\n`);
}

/** Runs a command in the repo root with inherited output; throws with the command on failure. */
function run(cmd, args, opts = {}) {
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: process.env, ...opts });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

/** `npm ci` when node_modules is missing or older than the lock file. */
function ensureInstalled() {
  const marker = path.join(ROOT, 'node_modules', '.package-lock.json');
  const lock = path.join(ROOT, 'package-lock.json');
  if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs) return;
  say('installing dependencies (npm ci)…');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

/** Debian's chromium for the console's browser tests, installed with apt-get when missing. */
function ensureChromium() {
  const bin = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (fs.existsSync(bin)) return;
  if (!fs.existsSync('/usr/bin/apt-get')) {
    throw new Error(`Chromium is not at ${bin} and apt-get is not available: install chromium, or set CHROMIUM_PATH to one.`);
  }
  say('installing chromium for the console browser tests (apt-get)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const asRoot = typeof process.getuid !== 'function' || process.getuid() === 0;
  const aptGet = (args) => (asRoot ? run('apt-get', args, { env }) : run('sudo', ['apt-get', ...args], { env }));
  aptGet(['update']);
  aptGet(['install', '-y', 'chromium']);
}

function build() {
  say('building (turbo run build)…');
  run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);
}

/** Spawns a long-running child whose output goes to a file; resolves the child. */
function spawnLogged(cmd, args, { env, logFile }) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'a');
  return spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', out, out] });
}

module.exports = { ROOT, say, run, ensureInstalled, ensureChromium, build, spawnLogged };
