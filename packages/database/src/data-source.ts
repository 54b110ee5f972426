import { Client } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ApiKeyEntity, TenantEntity } from './entities/tenant.entity';
import { MonitorEntity } from './entities/monitor.entity';
import { EndpointEntity, EndpointStatsEntity } from './entities/endpoint.entity';
import {
  DeliveryEntity,
  IncidentEntity,
  MonitorStateEntity,
} from './entities/read-models.entity';
import { ReceiverCallEntity, ReceiverEntity, ReceiverStatusEntity } from './entities/receiver.entity';
import { InitialSchema1763800000000 } from './migrations/1763800000000-initial-schema';
import { OffsetsPerCluster1763900000000 } from './migrations/1763900000000-offsets-per-cluster';
import { ProbeLeases1764100000000 } from './migrations/1764100000000-probe-leases';
import { InboundReceivers1764200000000 } from './migrations/1764200000000-inbound-receivers';
import { MaintenancePeriodEntity, MaintenanceWindowEntity, SilenceEntity, TenantSettingsEntity } from './entities/router.entity';
import { RouterIncidentModel1764300000000 } from './migrations/1764300000000-router-incident-model';
import { EndpointOperations1764400000000 } from './migrations/1764400000000-endpoint-operations';
import { ApiKeyRevocation1764500000000 } from './migrations/1764500000000-api-key-revocation';
import { ConsoleListIndexes1764600000000 } from './migrations/1764600000000-console-list-indexes';
import { TrimDeliveryIndexes1764700000000 } from './migrations/1764700000000-trim-delivery-indexes';
import { MonitorStateFillfactor1764800000000 } from './migrations/1764800000000-monitor-state-fillfactor';
import { OutboxIsolation1764900000000 } from './migrations/1764900000000-outbox-isolation';
import { SealedEndpointHeaders1765000000000 } from './migrations/1765000000000-sealed-endpoint-headers';
import { IncidentEventsIndex1765000100000 } from './migrations/1765000100000-incident-events-index';
import { DeliveryLeaseExpiries1765100000000 } from './migrations/1765100000000-delivery-lease-expiries';
import { DeliveryTraceparent1765200000000 } from './migrations/1765200000000-delivery-traceparent';
import { EndpointType1765300000000 } from './migrations/1765300000000-endpoint-type';
import { P1Fallback1765400000000 } from './migrations/1765400000000-p1-fallback';
import { TenantQuotas1765500000000 } from './migrations/1765500000000-tenant-quotas';
import { Silences1765600000000 } from './migrations/1765600000000-silences';
import { HostInhibition1765700000000 } from './migrations/1765700000000-host-inhibition';

export const ENTITIES = [
  TenantEntity,
  ApiKeyEntity,
  MonitorEntity,
  EndpointEntity,
  EndpointStatsEntity,
  IncidentEntity,
  DeliveryEntity,
  MonitorStateEntity,
  ReceiverEntity,
  ReceiverCallEntity,
  ReceiverStatusEntity,
  TenantSettingsEntity,
  MaintenanceWindowEntity,
  MaintenancePeriodEntity,
  SilenceEntity,
];

export const MIGRATIONS = [
  InitialSchema1763800000000,
  OffsetsPerCluster1763900000000,
  ProbeLeases1764100000000,
  InboundReceivers1764200000000,
  RouterIncidentModel1764300000000,
  EndpointOperations1764400000000,
  ApiKeyRevocation1764500000000,
  ConsoleListIndexes1764600000000,
  TrimDeliveryIndexes1764700000000,
  MonitorStateFillfactor1764800000000,
  OutboxIsolation1764900000000,
  SealedEndpointHeaders1765000000000,
  IncidentEventsIndex1765000100000,
  DeliveryLeaseExpiries1765100000000,
  DeliveryTraceparent1765200000000,
  EndpointType1765300000000,
  P1Fallback1765400000000,
  TenantQuotas1765500000000,
  Silences1765600000000,
  HostInhibition1765700000000,
];

export function dataSourceOptions(databaseUrl: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    extra: { max: poolSize },
  };
}

/** Creates the database named in the URL when it is missing (local runs and tests). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[a-zA-Z0-9_]+$/.test(name)) throw new Error(`DATABASE_URL names an unusable database: "${name}"`);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name}"`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile by another process
      });
    }
  } finally {
    await client.end();
  }
}

const MIGRATION_LOCK = 7_302_011;

/** Runs pending migrations under an advisory lock so replicas booting together do not race. */
export async function migrate(databaseUrl: string): Promise<string[]> {
  const ds = new DataSource(dataSourceOptions(databaseUrl, 2));
  await ds.initialize();
  try {
    const runner = ds.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const applied = await ds.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      await runner.release();
    }
  } finally {
    await ds.destroy();
  }
}

export async function prepareDatabase(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  return migrate(databaseUrl);
}
