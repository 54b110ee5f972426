/** Kafka topics of DESIGN §2. A namespace prefix isolates test runs sharing one cluster. */
export const TOPICS = {
  probeResults: 'tocsin.probe-results.v1',
  alerts: 'tocsin.alerts.v1',
  probeResultsDlq: 'tocsin.probe-results.dlq.v1',
} as const;

export type TopicName = keyof typeof TOPICS;
export type TopicNames = Record<TopicName, string>;

export function topicNames(namespace = ''): TopicNames {
  return {
    probeResults: `${namespace}${TOPICS.probeResults}`,
    alerts: `${namespace}${TOPICS.alerts}`,
    probeResultsDlq: `${namespace}${TOPICS.probeResultsDlq}`,
  };
}

/** Every record of a monitor shares one key, so its events stay ordered on one partition. */
export function monitorKey(tenantId: string, monitorId: string): string {
  return `${tenantId}:${monitorId}`;
}

export const HEADERS = {
  contentType: 'content-type',
  schema: 'schema',
  tenantId: 'tenant-id',
  eventId: 'event-id',
  dlqReason: 'dlq-reason',
  dlqSourceTopic: 'dlq-source-topic',
  dlqSourcePartition: 'dlq-source-partition',
  dlqSourceOffset: 'dlq-source-offset',
} as const;
