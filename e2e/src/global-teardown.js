module.exports = async function globalTeardown() {
  await globalThis.__TOCSIN_KAFKA__?.stop();
};
