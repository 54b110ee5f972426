module.exports = require('@tocsin/jest-config').preset({ displayName: 'delivery-queue' });
