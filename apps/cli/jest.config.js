module.exports = require('@tocsin/jest-config').preset({ displayName: 'cli' });
