'use strict';
// Brings up what Tocsin needs (Postgres reachable, a Kafka broker) unless the environment points elsewhere.
const { DEFAULT_DATABASE_URL, ensurePostgres, say } = require('./setup');

/**
 * @param {{ kafkaPort?: number }} opts  a port for a broker we start; 0 picks a free one
 * @returns {Promise<{ env: Record<string,string>, stop: () => Promise<void> }>}
 */
async function startInfra({ kafkaPort = 9092 } = {}) {
  const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  await ensurePostgres(databaseUrl);
  if (process.env.KAFKA_BROKERS) {
    say(`using Kafka at ${process.env.KAFKA_BROKERS} (KAFKA_BROKERS)`);
    return { env: { DATABASE_URL: databaseUrl, KAFKA_BROKERS: process.env.KAFKA_BROKERS }, stop: async () => {} };
  }
  const { startKafka, getFreePort } = require('./kafka');
  const port = kafkaPort === 0 ? await getFreePort() : kafkaPort;
  const kafka = await startKafka({ port, log: (line) => say(`kafka: ${line}`) });
  return { env: { DATABASE_URL: databaseUrl, KAFKA_BROKERS: kafka.brokers }, stop: () => kafka.stop() };
}

module.exports = { startInfra };
