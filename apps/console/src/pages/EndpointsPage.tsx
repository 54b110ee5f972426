import { Anchor, Badge, Group, Paper, Table, Text } from '@mantine/core';
import { Link } from 'react-router';
import { statTotals, v1 } from '../api';
import { ago, dash, percent } from '../format';
import { mapLimit, usePoll } from '../poll';
import { Empty, Loading, PageHeader, Pager, Problem, StatusBadge, useCursorPages } from '../ui';

export function EndpointsPage() {
  const pages = useCursorPages();
  const { data, error, loading } = usePoll(async () => {
    const page = await v1.endpoints({ limit: 25, cursor: pages.cursor });
    // Lists may come without stats; the single-endpoint answer always has them.
    const withStats = await mapLimit(page.data, 8, (e) => (e.stats ? Promise.resolve(e) : v1.endpoint(e.id).catch(() => e)));
    return { ...page, data: withStats };
  }, [pages.cursor]);

  return (
    <>
      <PageHeader title="Endpoints">
        <Loading show={loading} />
      </PageHeader>
      <Problem error={error} />
      <Paper withBorder>
        <Table striped highlightOnHover data-testid="endpoints-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Endpoint</Table.Th>
              <Table.Th>Events</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Success rate</Table.Th>
              <Table.Th>Delivered</Table.Th>
              <Table.Th>Failed</Table.Th>
              <Table.Th>Last delivery</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data?.data.map((e) => {
              const totals = statTotals(e.stats);
              return (
                <Table.Tr key={e.id} data-testid="endpoint-row">
                  <Table.Td>
                    <Anchor component={Link} to={`/endpoints/${e.id}`} fw={500}>
                      {e.name}
                    </Anchor>
                    <Text size="xs" c="dimmed" lineClamp={1} maw={360}>
                      {e.url}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {e.events.map((ev) => (
                        <Badge key={ev} size="xs" variant="outline">
                          {ev}
                        </Badge>
                      ))}
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <StatusBadge value={e.status} />
                  </Table.Td>
                  <Table.Td>{percent(e.stats?.success_rate)}</Table.Td>
                  <Table.Td>{dash(totals.delivered)}</Table.Td>
                  <Table.Td>{dash(totals.failed)}</Table.Td>
                  <Table.Td>{ago(e.stats?.last_delivery_at)}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
        {data?.data.length === 0 && <Empty>No endpoint yet.</Empty>}
      </Paper>
      <Pager page={data} pages={pages} />
    </>
  );
}
