import { Anchor, Code, Grid, Group, Paper, Table, Text, Timeline, Title } from '@mantine/core';
import { Link, useParams } from 'react-router';
import { v1 } from '../api';
import { between, dash, duration, when } from '../format';
import { usePoll } from '../poll';
import { Empty, Loading, PageHeader, Problem, SeverityBadge, StatusBadge } from '../ui';

/** The page every webhook's dashboard_url opens: the incident, its event timeline and its deliveries. */
export function IncidentPage() {
  const { dedupKey = '' } = useParams();
  const { data, error, loading } = usePoll(() => v1.incident(dedupKey), [dedupKey]);
  const monitor = usePoll(
    () => (data?.monitor_id ? v1.monitor(data.monitor_id).catch(() => undefined) : Promise.resolve(undefined)),
    [data?.monitor_id],
    null,
  );
  return (
    <>
      <PageHeader title="Incident">
        <Loading show={loading} />
        {data && <SeverityBadge value={data.severity} />}
        {data && <StatusBadge value={data.status} testId="incident-status" />}
      </PageHeader>
      <Problem error={error} />
      {data && (
        <>
          <Group gap="xl" mb="md" data-testid="incident-summary">
            <Text>
              <b>Monitor:</b>{' '}
              <Anchor component={Link} to={`/monitors/${data.monitor_id}`}>
                {monitor.data?.name ?? data.monitor_id}
              </Anchor>
            </Text>
            <Text>
              <b>Layer:</b> {data.failure_layer}
            </Text>
            <Text>
              <b>Started:</b> {when(data.started_at)}
            </Text>
            <Text>
              <b>Resolved:</b> {when(data.resolved_at)}
            </Text>
            <Text>
              <b>Duration:</b> {duration(between(data.started_at, data.resolved_at))}
            </Text>
            <Text>
              <b>Probes:</b> {data.probe_count}
            </Text>
          </Group>
          <Text size="sm" mb="md">
            <b>Dedup key</b> <Code>{data.dedup_key}</Code> · <b>Last error</b> {dash(data.last_error)}
          </Text>
          <Grid>
            <Grid.Col span={{ base: 12, lg: 5 }}>
              <Title order={4} mb="sm">
                Timeline
              </Title>
              <Timeline active={data.timeline.length} bulletSize={18} lineWidth={2} data-testid="timeline">
                {data.timeline.map((e, i) => (
                  <Timeline.Item key={`${i}-${e.type}`} title={e.type}>
                    <Text size="xs" c="dimmed">
                      {when(e.recorded_at)}
                      {e.sequence === undefined ? '' : ` · sequence ${e.sequence}`}
                    </Text>
                    {typeof e.data.severity === 'string' && <Text size="sm">severity {e.data.severity}</Text>}
                    {typeof e.data.last_error === 'string' && (
                      <Text size="sm" lineClamp={2}>
                        {e.data.last_error}
                      </Text>
                    )}
                  </Timeline.Item>
                ))}
              </Timeline>
            </Grid.Col>
            <Grid.Col span={{ base: 12, lg: 7 }}>
              <Title order={4} mb="sm">
                Deliveries
              </Title>
              <Paper withBorder>
                <Table data-testid="incident-deliveries">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Event</Table.Th>
                      <Table.Th>Endpoint</Table.Th>
                      <Table.Th>Status</Table.Th>
                      <Table.Th>Attempts</Table.Th>
                      <Table.Th>Last HTTP</Table.Th>
                      <Table.Th>Created</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.deliveries.map((d) => (
                      <Table.Tr key={d.id}>
                        <Table.Td>
                          <Anchor component={Link} to={`/deliveries/${d.id}`}>
                            {d.event}
                          </Anchor>
                        </Table.Td>
                        <Table.Td>
                          <Anchor component={Link} to={`/endpoints/${d.endpoint_id}`} size="sm">
                            {d.endpoint_id.slice(0, 8)}
                          </Anchor>
                        </Table.Td>
                        <Table.Td>
                          <StatusBadge value={d.status} />
                        </Table.Td>
                        <Table.Td>{d.attempt_count}</Table.Td>
                        <Table.Td>{dash(d.last_http_status)}</Table.Td>
                        <Table.Td>{when(d.created_at)}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
                {data.deliveries.length === 0 && <Empty>No delivery for this incident.</Empty>}
              </Paper>
            </Grid.Col>
          </Grid>
        </>
      )}
    </>
  );
}
