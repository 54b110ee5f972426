import { Alert, Anchor, Button, Card, Code, CopyButton, Group, Modal, Paper, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { post, statTotals, v1, type Attempt, type Delivery } from '../api';
import { ago, bytes, dash, percent, when } from '../format';
import { mapLimit, usePoll } from '../poll';
import { Empty, Loading, PageHeader, Pager, Problem, StatusBadge, useCursorPages } from '../ui';

const REDELIVERABLE = new Set(['dead_lettered', 'failed', 'skipped', 'delivered']);
const ATTEMPT_DETAIL_ROWS = 10;

interface AttemptRow extends Attempt {
  delivery: Delivery;
}

export function EndpointPage() {
  const { id = '' } = useParams();
  const pages = useCursorPages();
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ secret: string; previous_expires_at?: string } | null>(null);

  const endpoint = usePoll(() => v1.endpoint(id), [id]);
  const deliveries = usePoll(async () => {
    const page = await v1.endpointDeliveries(id, { limit: 20, order: 'desc', cursor: pages.cursor });
    // Attempts of the newest deliveries on this page, newest first.
    const details = await mapLimit(page.data.slice(0, ATTEMPT_DETAIL_ROWS), 6, (d) =>
      v1.delivery(d.id).catch(() => undefined),
    );
    const attempts: AttemptRow[] = details
      .flatMap((d) => (d ? d.attempts.map((a) => ({ ...a, delivery: d })) : []))
      .sort((a, b) => Date.parse(b.finished_at) - Date.parse(a.finished_at));
    return { page, attempts };
  }, [id, pages.cursor]);

  const act = async (name: string, action: () => Promise<string | null>) => {
    setBusy(name);
    setActionError(null);
    setNotice(null);
    try {
      setNotice(await action());
    } catch (err) {
      setActionError(`${name}: ${(err as Error).message}`);
    } finally {
      setBusy(null);
      await Promise.all([endpoint.refresh(), deliveries.refresh()]);
    }
  };

  const e = endpoint.data;
  const totals = statTotals(e?.stats);
  const paused = e?.status === 'paused';

  return (
    <>
      <PageHeader title={e?.name ?? 'Endpoint'}>
        <Loading show={endpoint.loading} />
        <StatusBadge value={e?.status} testId="endpoint-status" />
        <Button
          loading={busy === 'Test'}
          data-testid="action-test"
          onClick={() =>
            act('Test', async () => {
              const r = await post<{ delivery_id: string }>(`/endpoints/${id}/test`);
              return `Test webhook queued as delivery ${r.delivery_id}.`;
            })
          }
        >
          Test
        </Button>
        <Button
          variant="default"
          loading={busy === 'Pause' || busy === 'Resume'}
          data-testid={paused ? 'action-resume' : 'action-pause'}
          onClick={() =>
            act(paused ? 'Resume' : 'Pause', async () => {
              await post(`/endpoints/${id}/${paused ? 'resume' : 'pause'}`);
              return paused ? 'Endpoint resumed.' : 'Endpoint paused: new deliveries are recorded as skipped.';
            })
          }
        >
          {paused ? 'Resume' : 'Pause'}
        </Button>
        <Button
          variant="default"
          color="orange"
          loading={busy === 'Rotate secret'}
          data-testid="action-rotate"
          onClick={() =>
            act('Rotate secret', async () => {
              setSecret(await post<{ secret: string; previous_expires_at?: string }>(`/endpoints/${id}/rotate-secret`));
              return null;
            })
          }
        >
          Rotate secret
        </Button>
      </PageHeader>
      <Problem error={endpoint.error ?? actionError} />
      {notice && (
        <Alert color="blue" mb="md" withCloseButton onClose={() => setNotice(null)} data-testid="notice">
          {notice}
        </Alert>
      )}
      <Text size="sm" c="dimmed" mb="sm">
        {e ? `${e.url} · events ${e.events.join(', ')}${e.severities ? ` · severities ${e.severities.join(', ')}` : ''}` : ''}
      </Text>
      <SimpleGrid cols={{ base: 2, md: 4 }} mb="md">
        <Stat label="Success rate" value={percent(e?.stats?.success_rate)} testId="stat-success-rate" />
        <Stat label="Delivered" value={dash(totals.delivered)} testId="stat-delivered" />
        <Stat label="Failed" value={dash(totals.failed)} testId="stat-failed" />
        <Stat label="Last delivery" value={ago(e?.stats?.last_delivery_at)} />
      </SimpleGrid>

      <ReplayPanel endpointId={id} onDone={() => deliveries.refresh()} />

      <Title order={4} mt="lg" mb="xs">
        Recent attempts
      </Title>
      <Paper withBorder>
        <Table data-testid="attempts-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Time</Table.Th>
              <Table.Th>Event</Table.Th>
              <Table.Th>Attempt</Table.Th>
              <Table.Th>Outcome</Table.Th>
              <Table.Th>HTTP</Table.Th>
              <Table.Th>Duration</Table.Th>
              <Table.Th>Payload</Table.Th>
              <Table.Th>Response</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {deliveries.data?.attempts.map((a) => (
              <Table.Tr key={`${a.delivery.id}-${a.attempt}`} data-testid="attempt-row" data-event={a.delivery.event} data-outcome={a.outcome}>
                <Table.Td>{when(a.finished_at)}</Table.Td>
                <Table.Td>
                  <Anchor component={Link} to={`/deliveries/${a.delivery.id}`}>
                    {a.delivery.event}
                  </Anchor>
                </Table.Td>
                <Table.Td>{a.attempt}</Table.Td>
                <Table.Td>
                  <StatusBadge value={a.outcome} />
                </Table.Td>
                <Table.Td>{dash(a.http_status)}</Table.Td>
                <Table.Td>{a.duration_ms == null ? '—' : `${a.duration_ms} ms`}</Table.Td>
                <Table.Td>{bytes(a.request_bytes)}</Table.Td>
                <Table.Td>
                  <Text size="xs" lineClamp={2} maw={280}>
                    {a.response_snippet ?? a.error ?? '—'}
                  </Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {deliveries.data?.attempts.length === 0 && <Empty>No attempt yet.</Empty>}
      </Paper>

      <Title order={4} mt="lg" mb="xs">
        Deliveries
      </Title>
      <Problem error={deliveries.error} />
      <Paper withBorder>
        <Table striped data-testid="deliveries-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Created</Table.Th>
              <Table.Th>Event</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Attempts</Table.Th>
              <Table.Th>Last HTTP</Table.Th>
              <Table.Th>Last error</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {deliveries.data?.page.data.map((d) => (
              <Table.Tr key={d.id} data-testid="delivery-row" data-status={d.status} data-event={d.event}>
                <Table.Td>
                  <Anchor component={Link} to={`/deliveries/${d.id}`}>
                    {when(d.created_at)}
                  </Anchor>
                </Table.Td>
                <Table.Td>{d.event}</Table.Td>
                <Table.Td>
                  <StatusBadge value={d.status} />
                </Table.Td>
                <Table.Td>{d.attempt_count}</Table.Td>
                <Table.Td>{dash(d.last_http_status)}</Table.Td>
                <Table.Td>
                  <Text size="xs" lineClamp={1} maw={240}>
                    {dash(d.last_error)}
                  </Text>
                </Table.Td>
                <Table.Td>
                  {REDELIVERABLE.has(d.status) && (
                    <Button
                      size="compact-xs"
                      variant="light"
                      loading={busy === `Redeliver ${d.id}`}
                      data-testid="action-redeliver"
                      onClick={() =>
                        act(`Redeliver ${d.id}`, async () => {
                          await post(`/deliveries/${d.id}/redeliver`);
                          return `Delivery ${d.id} queued again (same webhook-id).`;
                        })
                      }
                    >
                      Redeliver
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {deliveries.data?.page.data.length === 0 && <Empty>No delivery yet.</Empty>}
      </Paper>
      <Pager page={deliveries.data?.page} pages={pages} />

      <Modal opened={secret !== null} onClose={() => setSecret(null)} title="New signing secret" size="lg">
        <Stack>
          <Text size="sm">
            Copy it now: it is shown once. The previous secret keeps signing until {when(secret?.previous_expires_at)}.
          </Text>
          <Code block data-testid="new-secret">
            {secret?.secret}
          </Code>
          <Group justify="flex-end">
            <CopyButton value={secret?.secret ?? ''}>
              {({ copied, copy }) => (
                <Button variant="default" onClick={copy}>
                  {copied ? 'Copied' : 'Copy'}
                </Button>
              )}
            </CopyButton>
            <Button onClick={() => setSecret(null)} data-testid="close-secret">
              Done
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed" tt="uppercase">
        {label}
      </Text>
      <Text fw={600} size="lg" data-testid={testId}>
        {value}
      </Text>
    </Card>
  );
}

function hoursAgo(h: number): string {
  return new Date(Date.now() - h * 3600_000).toISOString().slice(0, 16);
}

/** Replay asks for the dry-run count first; the real replay is a second, deliberate press. */
function ReplayPanel({ endpointId, onDone }: { endpointId: string; onDone: () => void }) {
  const [from, setFrom] = useState(() => hoursAgo(24));
  const [to, setTo] = useState(() => hoursAgo(-1));
  const [count, setCount] = useState<number | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const range = () => ({ from: new Date(`${from}:00Z`).toISOString(), to: new Date(`${to}:00Z`).toISOString() });
  const run = async (dryRun: boolean) => {
    setError(null);
    setResult(null);
    try {
      const r = await post<{ count: number }>(`/endpoints/${endpointId}/replay`, { ...range(), dry_run: dryRun });
      if (dryRun) setCount(r.count);
      else {
        setCount(null);
        setResult(`${r.count} deliveries queued again.`);
        onDone();
      }
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <Paper withBorder p="sm" data-testid="replay">
      <Text fw={500} mb="xs">
        Replay failed and skipped deliveries in a time range (UTC)
      </Text>
      <Group align="flex-end">
        <TextInput label="From" type="datetime-local" value={from} onChange={(e) => (setFrom(e.currentTarget.value), setCount(null))} />
        <TextInput label="To" type="datetime-local" value={to} onChange={(e) => (setTo(e.currentTarget.value), setCount(null))} />
        <Button variant="default" onClick={() => run(true)} data-testid="replay-count">
          Count
        </Button>
        {count !== null && (
          <Button color="orange" disabled={count === 0} onClick={() => run(false)} data-testid="replay-run">
            Replay {count} {count === 1 ? 'delivery' : 'deliveries'}
          </Button>
        )}
      </Group>
      {count !== null && (
        <Text size="sm" mt="xs" data-testid="replay-dry-run">
          Dry run: {count} {count === 1 ? 'delivery' : 'deliveries'} would be sent again.
        </Text>
      )}
      {result && (
        <Text size="sm" mt="xs" c="green">
          {result}
        </Text>
      )}
      {error && (
        <Text size="sm" mt="xs" c="red">
          {error}
        </Text>
      )}
    </Paper>
  );
}
