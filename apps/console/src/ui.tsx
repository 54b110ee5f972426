import { Alert, Badge, Button, Group, Loader, Table, Text, Title } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import type { Incident, Page } from './api';
import { between, duration } from './format';

const STATUS_COLOR: Record<string, string> = {
  up: 'green',
  operational: 'green',
  active: 'green',
  delivered: 'green',
  succeeded: 'green',
  resolved: 'green',
  processed: 'green',
  failing: 'yellow',
  degraded: 'orange',
  retrying: 'yellow',
  pending: 'blue',
  ignored: 'gray',
  down: 'red',
  open: 'red',
  failed: 'red',
  dead_lettered: 'red',
  disabled: 'red',
  auth_failed: 'red',
  maintenance: 'violet',
  paused: 'gray',
  skipped: 'gray',
  unknown: 'gray',
};

export function StatusBadge({ value, testId }: { value: string | null | undefined; testId?: string }) {
  const v = value ?? 'unknown';
  return (
    <Badge color={STATUS_COLOR[v] ?? 'gray'} variant="light" data-testid={testId} data-status={v} style={{ minWidth: 'max-content' }}>
      {v.replace(/_/g, ' ')}
    </Badge>
  );
}

const SEVERITY_COLOR: Record<string, string> = { P1: 'red', P2: 'orange', P3: 'yellow' };

export function SeverityBadge({ value }: { value: string | null | undefined }) {
  if (!value) return <Text c="dimmed">—</Text>;
  return (
    <Badge color={SEVERITY_COLOR[value] ?? 'gray'} variant="filled">
      {value}
    </Badge>
  );
}

export function PageHeader({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <Group justify="space-between" mb="md" wrap="nowrap">
      <Title order={2}>{title}</Title>
      <Group gap="xs">{children}</Group>
    </Group>
  );
}

export function Problem({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <Alert color="red" title="The API refused" mb="md" data-testid="problem">
      {error}
    </Alert>
  );
}

export function Loading({ show }: { show: boolean }) {
  return show ? <Loader size="sm" /> : null;
}

/** Cursor pagination: a stack of the cursors that led here, so "Previous" works too. */
export function useCursorPages() {
  const [stack, setStack] = useState<Array<string | undefined>>([undefined]);
  const cursor = stack[stack.length - 1];
  return {
    cursor,
    pageNumber: stack.length,
    next: (c: string) => setStack((s) => [...s, c]),
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    first: () => setStack([undefined]),
  };
}

export function Pager<T>({ page, pages }: { page: Page<T> | undefined; pages: ReturnType<typeof useCursorPages> }) {
  return (
    <Group justify="flex-end" mt="sm" gap="xs">
      <Text size="sm" c="dimmed">
        page {pages.pageNumber}
      </Text>
      <Button size="xs" variant="default" disabled={pages.pageNumber === 1} onClick={pages.first}>
        First
      </Button>
      <Button size="xs" variant="default" disabled={pages.pageNumber === 1} onClick={pages.previous}>
        Previous
      </Button>
      <Button
        size="xs"
        variant="default"
        disabled={!page?.next_cursor}
        onClick={() => page?.next_cursor && pages.next(page.next_cursor)}
        data-testid="next-page"
      >
        Next
      </Button>
    </Group>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Text c="dimmed" ta="center" py="lg">
      {children}
    </Text>
  );
}

/** An incident's status, severity, failing layer and duration: the cells every incident table shows. */
export function IncidentStateCells({
  incident,
}: {
  incident: Pick<Incident, 'status' | 'severity' | 'failure_layer' | 'started_at' | 'resolved_at'>;
}) {
  return (
    <>
      <Table.Td>
        <StatusBadge value={incident.status} />
      </Table.Td>
      <Table.Td>
        <SeverityBadge value={incident.severity} />
      </Table.Td>
      <Table.Td>{incident.failure_layer}</Table.Td>
      <Table.Td>{duration(between(incident.started_at, incident.resolved_at))}</Table.Td>
    </>
  );
}
