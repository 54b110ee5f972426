import { Anchor, Code, Paper, Table, Text } from '@mantine/core';
import { Link } from 'react-router';
import { v1 } from '../api';
import { when } from '../format';
import { usePoll } from '../poll';
import { Empty, Loading, PageHeader, Pager, Problem, useCursorPages } from '../ui';

export function ReceiversPage() {
  const pages = useCursorPages();
  const { data, error, loading } = usePoll(() => v1.receivers({ limit: 50, cursor: pages.cursor }), [pages.cursor]);
  return (
    <>
      <PageHeader title="Receivers">
        <Loading show={loading} />
      </PageHeader>
      <Problem error={error} />
      <Paper withBorder>
        <Table striped highlightOnHover data-testid="receivers-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Receiver</Table.Th>
              <Table.Th>Status field</Table.Th>
              <Table.Th>Monitor</Table.Th>
              <Table.Th>Created</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data?.data.map((r) => (
              <Table.Tr key={r.id} data-testid="receiver-row">
                <Table.Td>
                  <Anchor component={Link} to={`/receivers/${r.id}`} fw={500}>
                    {r.name}
                  </Anchor>
                  <Text size="xs" c="dimmed">
                    /v1/hooks/incoming/{r.token_prefix ?? ''}…{r.signed ? ' · signed' : ''}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Code>{r.status_field}</Code>
                </Table.Td>
                <Table.Td>
                  {r.monitor_id ? (
                    <Anchor component={Link} to={`/monitors/${r.monitor_id}`}>
                      {r.monitor_id.slice(0, 8)}
                    </Anchor>
                  ) : (
                    <Text size="sm">
                      by <Code>{r.service_field ?? '—'}</Code>
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{when(r.created_at)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {data?.data.length === 0 && <Empty>No receiver yet.</Empty>}
      </Paper>
      <Pager page={data} pages={pages} />
    </>
  );
}
