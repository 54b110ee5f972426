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

/**
 * Tenant topics (DESIGN §10): in that mode each tenant's own producers write to a topic of
 * their own, `tocsin.probe-results.t.<tenant_id>`, which Kafka's ACLs (a prefixed WRITE
 * grant per tenant principal) keep them to, and the router takes the tenant from the name.
 */
export const TENANT_TOPIC_PREFIX = 'tocsin.probe-results.t.';

export function tenantProbeResultsTopic(namespace: string, tenantId: string): string {
  return `${namespace}${TENANT_TOPIC_PREFIX}${tenantId}`;
}

/** The pattern the router subscribes by, for every tenant topic in the namespace. */
export function tenantTopicPattern(namespace: string): RegExp {
  return new RegExp(`^${(namespace + TENANT_TOPIC_PREFIX).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[A-Za-z0-9_-]+$`);
}

/** The tenant a tenant topic belongs to, or undefined for any other topic. */
export function tenantOfTopic(namespace: string, topic: string): string | undefined {
  const prefix = `${namespace}${TENANT_TOPIC_PREFIX}`;
  return topic.startsWith(prefix) && topic.length > prefix.length ? topic.slice(prefix.length) : undefined;
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
  /** W3C trace context (optional on every topic): the span that produced the record. */
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ZEROS = /^0+$/;

/** The trace id a W3C `traceparent` names, or undefined when there is none or it is malformed. */
export function traceIdOf(traceparent: string | null | undefined): string | undefined {
  const match = traceparent ? TRACEPARENT.exec(traceparent.trim()) : null;
  if (!match || ZEROS.test(match[1]!) || ZEROS.test(match[2]!)) return undefined;
  return match[1];
}
