'use strict';
// Command-line tools the tests run besides node, found on this machine or installed from
// Debian's packages when missing (as ensureChromium in setup.js does for the browser tests).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { say, run } = require('./setup');

/** Where promtool is looked for after PATH: Debian's package, and where ensurePromtool puts it. */
const PROMTOOL_PLACES = ['/usr/bin/promtool', '/usr/local/bin/promtool'];

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** promtool's path: $PROMTOOL, else the first on PATH, else /usr/bin or /usr/local/bin; null when none. */
function findPromtool(env = process.env) {
  if (env.PROMTOOL) return isExecutable(env.PROMTOOL) ? env.PROMTOOL : null;
  const onPath = (env.PATH || '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'promtool'));
  return [...onPath, ...PROMTOOL_PLACES].find(isExecutable) ?? null;
}

/**
 * Prometheus's promtool, for the checks of infra/prometheus (rules, their unit tests) and of
 * the Grafana dashboard's queries. When it is missing, it is taken from Debian's `prometheus`
 * package with apt-get: the package is downloaded and only /usr/bin/promtool is copied out of
 * it, to /usr/local/bin/promtool. Installing the whole package would also pull in ~35 others
 * (node exporter, web assets) and, on a machine with an init system, start a Prometheus server.
 */
function ensurePromtool() {
  const found = findPromtool();
  if (found) return found;
  if (!fs.existsSync('/usr/bin/apt-get') || !fs.existsSync('/usr/bin/dpkg-deb')) {
    throw new Error(
      'promtool is not on PATH, nor at /usr/bin/promtool, and apt-get is not available: install Prometheus\'s ' +
        'promtool (Debian/Ubuntu: the `prometheus` package), or set PROMTOOL to one.',
    );
  }
  say('installing promtool for the Prometheus rule tests (apt-get download prometheus)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const asRoot = typeof process.getuid !== 'function' || process.getuid() === 0;
  const sudo = (cmd, args, opts = {}) => (asRoot ? run(cmd, args, { env, ...opts }) : run('sudo', [cmd, ...args], { env, ...opts }));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tocsin-promtool-'));
  try {
    sudo('apt-get', ['update']);
    // `apt-get download` writes into the current directory; the _apt sandbox user may not be
    // able to, which only makes apt warn and download as the calling user.
    run('apt-get', ['download', 'prometheus'], { env, cwd: work });
    const deb = fs.readdirSync(work).find((f) => /^prometheus_.*\.deb$/.test(f));
    if (!deb) throw new Error(`apt-get download prometheus left no prometheus_*.deb in ${work}`);
    const tree = path.join(work, 'root');
    run('dpkg-deb', ['-x', path.join(work, deb), tree]);
    const extracted = path.join(tree, 'usr', 'bin', 'promtool');
    if (!isExecutable(extracted)) throw new Error(`${deb} holds no usr/bin/promtool`);
    sudo('install', ['-m', '0755', extracted, '/usr/local/bin/promtool']);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const installed = findPromtool();
  if (!installed) throw new Error('promtool was installed to /usr/local/bin/promtool but cannot be run from there');
  return installed;
}

module.exports = { findPromtool, ensurePromtool };
