import { Anchor, Paper, SegmentedControl, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { Link } from 'react-router';
import { v1 } from '../api';
import { dash, when } from '../format';
import { usePoll } from '../poll';
import { Empty, IncidentStateCells, Loading, PageHeader, Pager, Problem, useCursorPages } from '../ui';

export function IncidentsPage() {
  const [status, setStatus] = useState<'open' | 'resolved' | 'all'>('open');
  const pages = useCursorPages();
  const { data, error, loading } = usePoll(
    () => v1.incidents({ limit: 50, order: 'desc', cursor: pages.cursor, status: status === 'all' ? undefined : status }),
    [status, pages.cursor],
  );
  return (
    <>
      <PageHeader title="Incidents">
        <Loading show={loading} />
        <SegmentedControl
          value={status}
          onChange={(v) => {
            setStatus(v as typeof status);
            pages.first();
          }}
          data={[
            { value: 'open', label: 'Open' },
            { value: 'resolved', label: 'Resolved' },
            { value: 'all', label: 'All' },
          ]}
          data-testid="incident-filter"
        />
      </PageHeader>
      <Problem error={error} />
      <Paper withBorder>
        <Table striped highlightOnHover data-testid="incidents-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Started</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Severity</Table.Th>
              <Table.Th>Layer</Table.Th>
              <Table.Th>Duration</Table.Th>
              <Table.Th>Last error</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data?.data.map((i) => (
              <Table.Tr key={i.dedup_key} data-testid="incident-row">
                <Table.Td>
                  <Anchor component={Link} to={`/incidents/${encodeURIComponent(i.dedup_key)}`}>
                    {when(i.started_at)}
                  </Anchor>
                  <Text size="xs" c="dimmed">
                    {i.dedup_key}
                  </Text>
                </Table.Td>
                <IncidentStateCells incident={i} />
                <Table.Td>
                  <Text size="xs" lineClamp={2}>
                    {dash(i.last_error)}
                  </Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {data?.data.length === 0 && <Empty>No {status === 'all' ? '' : status} incident.</Empty>}
      </Paper>
      <Pager page={data} pages={pages} />
    </>
  );
}
