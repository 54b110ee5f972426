import { Anchor, Button, Code, Group, Paper, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { post, v1 } from '../api';
import { bytes, dash, when } from '../format';
import { usePoll } from '../poll';
import { Loading, PageHeader, Problem, StatusBadge } from '../ui';

export function DeliveryPage() {
  const { id = '' } = useParams();
  const [actionError, setActionError] = useState<string | null>(null);
  const { data, error, loading, refresh } = usePoll(() => v1.delivery(id), [id]);
  return (
    <>
      <PageHeader title={`Delivery ${data?.event ?? ''}`}>
        <Loading show={loading} />
        <StatusBadge value={data?.status} testId="delivery-status" />
        <Button
          variant="light"
          data-testid="action-redeliver"
          onClick={async () => {
            setActionError(null);
            try {
              await post(`/deliveries/${id}/redeliver`);
            } catch (err) {
              setActionError((err as Error).message);
            }
            await refresh();
          }}
        >
          Redeliver
        </Button>
      </PageHeader>
      <Problem error={error ?? actionError} />
      {data && (
        <>
          <Group gap="xl" mb="md">
            <Text>
              <b>Endpoint:</b>{' '}
              <Anchor component={Link} to={`/endpoints/${data.endpoint_id}`}>
                {data.endpoint_id}
              </Anchor>
            </Text>
            <Text>
              <b>Incident:</b>{' '}
              <Anchor component={Link} to={`/incidents/${encodeURIComponent(data.dedup_key)}`}>
                {data.dedup_key}
              </Anchor>
            </Text>
            <Text>
              <b>webhook-id:</b> <Code>{data.id}</Code>
            </Text>
            <Text>
              <b>Next attempt:</b> {when(data.next_attempt_at)}
            </Text>
          </Group>
          <Title order={4} mb="xs">
            Attempts
          </Title>
          <Paper withBorder mb="lg">
            <Table data-testid="delivery-attempts">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>#</Table.Th>
                  <Table.Th>Time</Table.Th>
                  <Table.Th>Outcome</Table.Th>
                  <Table.Th>HTTP</Table.Th>
                  <Table.Th>Duration</Table.Th>
                  <Table.Th>Payload</Table.Th>
                  <Table.Th>Response / error</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.attempts.map((a) => (
                  <Table.Tr key={a.attempt}>
                    <Table.Td>{a.attempt}</Table.Td>
                    <Table.Td>{when(a.finished_at)}</Table.Td>
                    <Table.Td>
                      <StatusBadge value={a.outcome} />
                    </Table.Td>
                    <Table.Td>{dash(a.http_status)}</Table.Td>
                    <Table.Td>{a.duration_ms == null ? '—' : `${a.duration_ms} ms`}</Table.Td>
                    <Table.Td>{bytes(a.request_bytes)}</Table.Td>
                    <Table.Td>
                      <Text size="xs" lineClamp={3}>
                        {[a.error_class, a.response_snippet ?? a.error].filter(Boolean).join(': ') || '—'}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Paper>
          <Title order={4} mb="xs">
            Body
          </Title>
          <Code block>{JSON.stringify(data.body, null, 2)}</Code>
        </>
      )}
    </>
  );
}
