import { Code, Paper, Table, Text } from '@mantine/core';
import { useParams } from 'react-router';
import { v1 } from '../api';
import { dash, when } from '../format';
import { usePoll } from '../poll';
import { Empty, Loading, PageHeader, Problem, StatusBadge } from '../ui';

/** The receiver and the last 50 calls it got, newest first. */
export function ReceiverPage() {
  const { id = '' } = useParams();
  const receiver = usePoll(() => v1.receiver(id), [id], null);
  const log = usePoll(() => v1.receiverLog(id), [id]);
  return (
    <>
      <PageHeader title={receiver.data?.name ?? 'Receiver'}>
        <Loading show={log.loading} />
      </PageHeader>
      <Problem error={receiver.error ?? log.error} />
      {receiver.data && (
        <Text size="sm" mb="md">
          Status from <Code>{receiver.data.status_field}</Code>
          {receiver.data.monitor_id ? ` into monitor ${receiver.data.monitor_id}` : ''}
        </Text>
      )}
      <Paper withBorder>
        <Table striped data-testid="receiver-log">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Received</Table.Th>
              <Table.Th>From</Table.Th>
              <Table.Th>Result</Table.Th>
              <Table.Th>Raw → mapped</Table.Th>
              <Table.Th>Monitor status</Table.Th>
              <Table.Th>Payload</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {log.data?.data.map((row, i) => (
              <Table.Tr key={`${row.received_at}-${i}`} data-testid="receiver-call" data-result={row.result}>
                <Table.Td>{when(row.received_at)}</Table.Td>
                <Table.Td>{dash(row.source_ip)}</Table.Td>
                <Table.Td>
                  <StatusBadge value={row.result} />
                  {row.reason && (
                    <Text size="xs" c="dimmed">
                      {row.reason}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  {dash(row.raw_status)} → {dash(row.mapped_status)}
                </Table.Td>
                <Table.Td>
                  {dash(row.previous_status)} → {dash(row.new_status)}
                </Table.Td>
                <Table.Td>
                  <Code block maw={360} style={{ maxHeight: 80, overflow: 'auto' }}>
                    {JSON.stringify(row.payload)}
                  </Code>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {log.data?.data.length === 0 && <Empty>No call yet.</Empty>}
      </Paper>
    </>
  );
}
