'use strict';
// The one per-user place where `npm start` keeps what must outlive a clone: the dev encryption
// key and the embedded Postgres data. Keeping both outside the checkout means a second clone,
// a re-clone or a deleted `.cache/` finds the same key for the rows that key sealed.
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, say } = require('./setup');

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * `TOCSIN_HOME`, else `$XDG_DATA_HOME/tocsin` (`~/.local/share/tocsin`). As root the home
 * folder is closed to the `postgres` user that the embedded server must run as (Postgres
 * refuses root), so root's place is `/var/lib/tocsin`, where system services keep state.
 */
function localStateDir() {
  if (process.env.TOCSIN_HOME) return path.resolve(process.env.TOCSIN_HOME);
  if (isRoot()) return '/var/lib/tocsin';
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'tocsin');
}

/**
 * The dev key, generated on the first run and kept. A clone that generated its own key into
 * `.cache/encryption.key` (before the key moved here) hands it over once, so the rows it sealed
 * still open.
 */
function localEncryptionKey() {
  const dir = localStateDir();
  const file = path.join(dir, 'encryption.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    const legacy = path.join(ROOT, '.cache', 'encryption.key');
    if (fs.existsSync(legacy)) {
      fs.copyFileSync(legacy, file);
      fs.chmodSync(file, 0o600);
      say(`moved this clone's TOCSIN_ENCRYPTION_KEY to ${file}`);
    } else {
      fs.writeFileSync(file, crypto.randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
      say(`generated TOCSIN_ENCRYPTION_KEY into ${file}`);
    }
  }
  return fs.readFileSync(file, 'utf8').trim();
}

module.exports = { isRoot, localStateDir, localEncryptionKey };
