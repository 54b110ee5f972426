// Uses the broker `npm test` started (KAFKA_BROKERS); when jest runs on its own, starts one.
module.exports = async function globalSetup() {
  if (process.env.KAFKA_BROKERS) return;
  const { startKafka } = require('@tocsin/local/lib/kafka');
  const kafka = await startKafka({ log: (line) => process.stderr.write(`[kafka] ${line}\n`) });
  process.env.KAFKA_BROKERS = kafka.brokers;
  globalThis.__TOCSIN_KAFKA__ = kafka;
};
