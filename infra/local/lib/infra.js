'use strict';
// Brings up what Tocsin needs (a Postgres, a Kafka broker) unless the environment points elsewhere.
const { say } = require('./setup');
const { resolvePostgres } = require('./postgres');

/**
 * @param {{ kafkaPort?: number }} opts  a port for a broker we start; 0 picks a free one
 * @returns {Promise<{ env: Record<string,string>, stop: () => Promise<void> }>}
 */
async function startInfra({ kafkaPort = 9092 } = {}) {
  const postgres = await resolvePostgres();
  if (process.env.KAFKA_BROKERS) {
    say(`using Kafka at ${process.env.KAFKA_BROKERS} (KAFKA_BROKERS)`);
    return { env: { DATABASE_URL: postgres.url, KAFKA_BROKERS: process.env.KAFKA_BROKERS }, stop: postgres.stop };
  }
  const { startKafka, getFreePort } = require('./kafka');
  const port = kafkaPort === 0 ? await getFreePort() : kafkaPort;
  let kafka;
  try {
    kafka = await startKafka({ port, log: (line) => say(`kafka: ${line}`) });
  } catch (err) {
    await postgres.stop();
    throw err;
  }
  return {
    env: { DATABASE_URL: postgres.url, KAFKA_BROKERS: kafka.brokers },
    stop: async () => {
      await kafka.stop();
      await postgres.stop();
    },
  };
}

module.exports = { startInfra };
