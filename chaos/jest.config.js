const { preset } = require('@tocsin/jest-config');

// One file, its scenarios in order on one world; each scenario waits on conditions, and a
// stuck one fails on its own timeout rather than the run's.
module.exports = { ...preset({ displayName: 'chaos', testTimeout: 240_000 }) };
