import { Anchor, Paper, Table, Text } from '@mantine/core';
import { Link } from 'react-router';
import { v1, type MonitorStatus } from '../api';
import { ago, dash } from '../format';
import { mapLimit, usePoll } from '../poll';
import { Empty, Loading, PageHeader, Pager, Problem, StatusBadge, useCursorPages } from '../ui';

const PAGE_SIZE = 25;

export function latencyOf(s: MonitorStatus | undefined): string {
  const ms = s?.last_latency_ms ?? s?.latency_ms;
  return ms === null || ms === undefined ? '—' : `${ms} ms`;
}

export function generationOf(s: MonitorStatus | undefined): string {
  return dash(s?.generation ?? s?.protocol_version);
}

/** One page of monitors, each with its live status; only the visible page is polled. */
export function MonitorsPage() {
  const pages = useCursorPages();
  const { data, error, loading } = usePoll(async () => {
    const page = await v1.monitors({ limit: PAGE_SIZE, cursor: pages.cursor });
    const statuses = await mapLimit(page.data, 8, (m) => v1.monitorStatus(m.id).catch(() => undefined));
    return { page, statuses };
  }, [pages.cursor]);

  return (
    <>
      <PageHeader title="Monitors">
        <Loading show={loading} />
      </PageHeader>
      <Problem error={error} />
      <Paper withBorder>
        <Table striped highlightOnHover data-testid="monitors-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Monitor</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Failing layer</Table.Th>
              <Table.Th>Last probe</Table.Th>
              <Table.Th>Latency</Table.Th>
              <Table.Th>MCP generation</Table.Th>
              <Table.Th>Tools</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data?.page.data.map((m, i) => {
              const s = data.statuses[i];
              return (
                <Table.Tr key={m.id} data-testid={`monitor-row-${m.slug}`}>
                  <Table.Td>
                    <Anchor component={Link} to={`/monitors/${m.id}`} fw={500}>
                      {m.name}
                    </Anchor>
                    <Text size="xs" c="dimmed">
                      {m.slug} · {m.kind} · every {m.interval_seconds}s
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <StatusBadge value={s?.status} testId="monitor-status" />
                  </Table.Td>
                  <Table.Td>{dash(s?.last_failure_layer ?? s?.open_incident?.failure_layer)}</Table.Td>
                  <Table.Td>{ago(s?.last_probe_at)}</Table.Td>
                  <Table.Td>{latencyOf(s)}</Table.Td>
                  <Table.Td>{generationOf(s)}</Table.Td>
                  <Table.Td>{dash(s?.tools_count)}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
        {data && data.page.data.length === 0 && <Empty>No monitors yet. Create one with the API or the CLI.</Empty>}
      </Paper>
      <Pager page={data?.page} pages={pages} />
    </>
  );
}
