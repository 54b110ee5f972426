import { Anchor, Badge, Button, Card, Grid, Group, Paper, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import {
  del,
  get,
  post,
  v1,
  type MaintenanceWindow,
  type MonitorStatus,
  type Page,
  type ProbeSample,
  type ToolsDiff,
} from '../api';
import { ago, dash, when } from '../format';
import { usePoll } from '../poll';
import { Empty, IncidentStateCells, Loading, PageHeader, Problem, SeverityBadge, StatusBadge } from '../ui';
import { generationOf, latencyOf } from './MonitorsPage';

type Drift = ToolsDiff & { detected_at?: string; recorded_at?: string };

/** Results seen while this page is open, newest first, when the API sends no history of its own. */
function useSeenResults(status: MonitorStatus | undefined): ProbeSample[] {
  const [seen, setSeen] = useState<ProbeSample[]>([]);
  useEffect(() => {
    if (!status?.last_probe_at) return;
    setSeen((prev) =>
      prev[0]?.observed_at === status.last_probe_at
        ? prev
        : [
            {
              observed_at: status.last_probe_at ?? undefined,
              ok: status.last_ok ?? undefined,
              failure_layer: status.last_failure_layer,
              latency_ms: status.last_latency_ms ?? status.latency_ms ?? null,
              error: status.last_error,
            },
            ...prev,
          ].slice(0, 50),
    );
  }, [status]);
  return status?.recent_results ?? seen;
}

export function MonitorPage() {
  const { id = '' } = useParams();
  const [actionError, setActionError] = useState<string | null>(null);
  const monitor = usePoll(() => v1.monitor(id), [id], null);
  const status = usePoll(() => v1.monitorStatus(id), [id]);
  const incidents = usePoll(async () => {
    const page = await v1.incidents({ limit: 200, order: 'desc' });
    return page.data.filter((i) => i.monitor_id === id);
  }, [id]);
  const windows = usePoll(
    () => get<Page<MaintenanceWindow> | MaintenanceWindow[]>(`/monitors/${id}/maintenance`).then((r) => (Array.isArray(r) ? r : r.data)),
    [id],
  );
  const results = useSeenResults(status.data);
  const drifts: Drift[] = status.data?.drifts ?? status.data?.schema_drifts ?? [];
  const s = status.data;

  return (
    <>
      <PageHeader title={monitor.data?.name ?? 'Monitor'}>
        <Loading show={status.loading} />
        <StatusBadge value={s?.status} testId="monitor-status" />
      </PageHeader>
      <Problem error={monitor.error ?? status.error ?? actionError} />
      <SimpleGrid cols={{ base: 2, md: 5 }} mb="md">
        <Fact label="Status" value={<StatusBadge value={s?.status} />} />
        <Fact label="Failing layer" value={dash(s?.last_failure_layer ?? s?.open_incident?.failure_layer)} />
        <Fact label="Last probe" value={`${ago(s?.last_probe_at)} · ${latencyOf(s)}`} />
        <Fact label="MCP generation" value={generationOf(s)} />
        <Fact label="Tools" value={dash(s?.tools_count)} />
      </SimpleGrid>
      <Text size="sm" c="dimmed" mb="md">
        {monitor.data ? `${monitor.data.slug} · ${monitor.data.kind} · ${monitor.data.url} · every ${monitor.data.interval_seconds}s` : ''}
      </Text>
      {s?.open_incident && (
        <Card withBorder mb="md" bg="red.0" data-testid="open-incident">
          <Group>
            <SeverityBadge value={s.open_incident.severity} />
            <Text>
              Down since {when(s.open_incident.started_at)} at the {s.open_incident.failure_layer} layer:{' '}
              {dash(s.open_incident.last_error)}
            </Text>
            <Anchor component={Link} to={`/incidents/${encodeURIComponent(s.open_incident.dedup_key)}`}>
              Open incident
            </Anchor>
          </Group>
        </Card>
      )}
      <Grid>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Title order={4} mb="xs">
            Recent results
          </Title>
          <Paper withBorder>
            <Table data-testid="recent-results">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Observed</Table.Th>
                  <Table.Th>Result</Table.Th>
                  <Table.Th>Layer</Table.Th>
                  <Table.Th>Latency</Table.Th>
                  <Table.Th>Error</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {results.map((r, i) => (
                  <Table.Tr key={`${r.observed_at}-${i}`}>
                    <Table.Td>{when(r.observed_at)}</Table.Td>
                    <Table.Td>
                      <StatusBadge value={r.ok === undefined ? 'unknown' : r.ok ? 'up' : 'failed'} />
                    </Table.Td>
                    <Table.Td>{dash(r.failure_layer)}</Table.Td>
                    <Table.Td>{r.latency_ms == null ? '—' : `${r.latency_ms} ms`}</Table.Td>
                    <Table.Td>
                      <Text size="xs" lineClamp={2}>
                        {dash(r.error)}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            {results.length === 0 && <Empty>No probe result yet.</Empty>}
          </Paper>
          <Title order={4} mt="lg" mb="xs">
            Schema drift
          </Title>
          <Stack gap="xs" data-testid="schema-drifts">
            {drifts.map((d, i) => (
              <ToolsDiffCard key={`${d.current_hash}-${i}`} drift={d} />
            ))}
            {drifts.length === 0 && <Text c="dimmed">No tools/list change recorded.</Text>}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Title order={4} mb="xs">
            Incidents
          </Title>
          <Paper withBorder mb="lg">
            <Table>
              <Table.Tbody>
                {incidents.data?.map((i) => (
                  <Table.Tr key={i.dedup_key}>
                    <Table.Td>
                      <Anchor component={Link} to={`/incidents/${encodeURIComponent(i.dedup_key)}`}>
                        {when(i.started_at)}
                      </Anchor>
                    </Table.Td>
                    <IncidentStateCells incident={i} />
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            {incidents.data?.length === 0 && <Empty>No incident.</Empty>}
          </Paper>
          <MaintenancePanel
            monitorId={id}
            windows={windows.data}
            error={windows.error}
            onChange={async (action) => {
              setActionError(null);
              try {
                await action();
              } catch (err) {
                setActionError((err as Error).message);
              }
              await Promise.all([windows.refresh(), status.refresh()]);
            }}
          />
        </Grid.Col>
      </Grid>
    </>
  );
}

function Fact({ label, value }: { label: string; value: ReactNode }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed" tt="uppercase">
        {label}
      </Text>
      <Text component="div" fw={500}>
        {value}
      </Text>
    </Card>
  );
}

function ToolsDiffCard({ drift }: { drift: Drift }) {
  const at = drift.detected_at ?? drift.recorded_at;
  return (
    <Card withBorder padding="sm">
      <Text size="sm" fw={500}>
        {when(at)} · {drift.previous_hash?.slice(0, 10) ?? '—'} → {drift.current_hash?.slice(0, 10) ?? '—'}
      </Text>
      <Group gap={4} mt={4}>
        {drift.added?.map((t) => (
          <Badge key={`+${t}`} color="green" variant="light">
            + {t}
          </Badge>
        ))}
        {drift.removed?.map((t) => (
          <Badge key={`-${t}`} color="red" variant="light">
            − {t}
          </Badge>
        ))}
        {drift.changed?.map((t) => (
          <Badge key={`~${t}`} color="yellow" variant="light">
            ~ {t}
          </Badge>
        ))}
      </Group>
    </Card>
  );
}

function defaultEnd(): string {
  return new Date(Date.now() + 60 * 60 * 1000).toISOString().slice(0, 16);
}

function MaintenancePanel({
  monitorId,
  windows,
  error,
  onChange,
}: {
  monitorId: string;
  windows: MaintenanceWindow[] | undefined;
  error: string | null;
  onChange: (action: () => Promise<unknown>) => Promise<void>;
}) {
  const [endsAt, setEndsAt] = useState(defaultEnd);
  const [reason, setReason] = useState('');
  return (
    <>
      <Title order={4} mb="xs">
        Maintenance windows
      </Title>
      <Paper withBorder p="sm" data-testid="maintenance">
        {error && (
          <Text size="sm" c="red">
            {error}
          </Text>
        )}
        <Table>
          <Table.Tbody>
            {windows?.map((w) => {
              const ended = Boolean(w.ended_at) || Date.parse(w.ends_at) <= Date.now();
              return (
                <Table.Tr key={w.id}>
                  <Table.Td>{when(w.starts_at)}</Table.Td>
                  <Table.Td>{when(w.ended_at ?? w.ends_at)}</Table.Td>
                  <Table.Td>{dash(w.reason)}</Table.Td>
                  <Table.Td>
                    {ended ? (
                      <StatusBadge value="resolved" />
                    ) : (
                      <Button size="xs" variant="light" onClick={() => onChange(() => del(`/monitors/${monitorId}/maintenance/${w.id}`))}>
                        End now
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
        <Group align="flex-end" mt="sm">
          <TextInput label="Ends at (UTC)" type="datetime-local" value={endsAt} onChange={(e) => setEndsAt(e.currentTarget.value)} />
          <TextInput label="Reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
          <Button
            data-testid="create-maintenance"
            onClick={() =>
              onChange(() =>
                post(`/monitors/${monitorId}/maintenance`, {
                  ends_at: new Date(`${endsAt}:00Z`).toISOString(),
                  ...(reason ? { reason } : {}),
                }),
              )
            }
          >
            Start maintenance
          </Button>
        </Group>
      </Paper>
    </>
  );
}
