import { Box, Card, Group, Paper, Select, SimpleGrid, Text, Tooltip } from '@mantine/core';
import { useSearchParams } from 'react-router';
import { get, v1, type Sla } from '../api';
import { duration, percent } from '../format';
import { mapLimit, usePoll } from '../poll';
import { Loading, PageHeader, Problem } from '../ui';

const DAYS = 90;
const DAY_MS = 86_400_000;

interface Day {
  from: string;
  availability: number | null;
  downtime_seconds: number;
  maintenance_seconds: number;
  incidents: number;
}

interface SlaWithDays extends Sla {
  days?: Array<Partial<Day> & { date?: string; from?: string }>;
}

function count(incidents: Sla['incidents']): number {
  return Array.isArray(incidents) ? incidents.length : incidents;
}

function colour(d: Day): string {
  if (d.availability === null) return 'var(--mantine-color-gray-3)';
  if (d.downtime_seconds === 0) return 'var(--mantine-color-green-6)';
  if (d.availability >= 0.99) return 'var(--mantine-color-yellow-5)';
  if (d.availability >= 0.95) return 'var(--mantine-color-orange-6)';
  return 'var(--mantine-color-red-7)';
}

/** 90 UTC days ending today; one SLA query per day unless the API answers with days itself. */
async function loadDays(monitorId: string): Promise<{ total: Sla; days: Day[] }> {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const start = today - (DAYS - 1) * DAY_MS;
  const total = await get<SlaWithDays>(`/monitors/${monitorId}/sla`, {
    from: new Date(start).toISOString(),
    to: new Date(Math.min(Date.now(), today + DAY_MS)).toISOString(),
  });
  if (total.days && total.days.length > 0) {
    return {
      total,
      days: total.days.map((d) => ({
        from: d.from ?? d.date ?? '',
        availability: d.availability ?? null,
        downtime_seconds: d.downtime_seconds ?? 0,
        maintenance_seconds: d.maintenance_seconds ?? 0,
        incidents: d.incidents ?? 0,
      })),
    };
  }
  const starts = Array.from({ length: DAYS }, (_, i) => start + i * DAY_MS);
  const days = await mapLimit(starts, 6, async (from) => {
    const sla = await get<Sla>(`/monitors/${monitorId}/sla`, {
      from: new Date(from).toISOString(),
      to: new Date(Math.min(Date.now(), from + DAY_MS)).toISOString(),
    });
    return {
      from: new Date(from).toISOString(),
      availability: sla.availability,
      downtime_seconds: sla.downtime_seconds,
      maintenance_seconds: sla.maintenance_seconds,
      incidents: count(sla.incidents),
    };
  });
  return { total, days };
}

export function SlaPage() {
  const [params, setParams] = useSearchParams();
  const monitors = usePoll(() => v1.monitors({ limit: 200 }), [], null);
  const monitorId = params.get('monitor') ?? monitors.data?.data[0]?.id ?? null;
  const sla = usePoll(() => (monitorId ? loadDays(monitorId) : Promise.resolve(undefined)), [monitorId], 60_000);

  return (
    <>
      <PageHeader title="SLA">
        <Loading show={sla.loading} />
        <Select
          placeholder="Monitor"
          searchable
          w={320}
          value={monitorId}
          data={(monitors.data?.data ?? []).map((m) => ({ value: m.id, label: `${m.name} (${m.slug})` }))}
          onChange={(v) => v && setParams({ monitor: v })}
          data-testid="sla-monitor"
        />
      </PageHeader>
      <Problem error={monitors.error ?? sla.error} />
      {sla.data && (
        <>
          <SimpleGrid cols={{ base: 2, md: 4 }} mb="lg">
            <Fact label={`Availability, ${DAYS} days`} value={percent(sla.data.total.availability, 3)} />
            <Fact label="Downtime" value={duration(sla.data.total.downtime_seconds)} />
            <Fact label="Maintenance" value={duration(sla.data.total.maintenance_seconds)} />
            <Fact label="Incidents" value={String(count(sla.data.total.incidents))} />
          </SimpleGrid>
          <Paper withBorder p="md">
            <Group gap={2} wrap="nowrap" align="flex-end" h={64} data-testid="sla-bars">
              {sla.data.days.map((d) => (
                <Tooltip
                  key={d.from}
                  withArrow
                  multiline
                  label={`${d.from.slice(0, 10)} · ${percent(d.availability, 3)} · down ${duration(d.downtime_seconds)} · maintenance ${duration(d.maintenance_seconds)} · ${d.incidents} incident(s)`}
                >
                  <Box
                    data-testid="sla-day"
                    data-downtime={d.downtime_seconds}
                    data-maintenance={d.maintenance_seconds}
                    style={{
                      flex: 1,
                      height: 56,
                      borderRadius: 2,
                      background: colour(d),
                      borderTop: d.maintenance_seconds > 0 ? '6px solid var(--mantine-color-violet-6)' : undefined,
                    }}
                  />
                </Tooltip>
              ))}
            </Group>
            <Group justify="space-between" mt={4}>
              <Text size="xs" c="dimmed">
                {sla.data.days[0]?.from.slice(0, 10)}
              </Text>
              <Text size="xs" c="dimmed">
                green: no downtime · yellow/orange/red: downtime · violet top: maintenance · grey: no data
              </Text>
              <Text size="xs" c="dimmed">
                today
              </Text>
            </Group>
          </Paper>
        </>
      )}
    </>
  );
}

function Fact({ label, value }: { label: string; value: string }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed" tt="uppercase">
        {label}
      </Text>
      <Text fw={600} size="lg">
        {value}
      </Text>
    </Card>
  );
}
