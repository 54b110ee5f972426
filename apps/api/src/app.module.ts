import { randomBytes } from 'node:crypto';
import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { TocsinConfig } from '@tocsin/config';
import { KafkaModule } from '@tocsin/kafka';
import { SecretsModule, serviceModules } from '@tocsin/runtime';
import { ADMIN_TOKEN } from './auth/admin-token';
import { ApiKeysController } from './auth/api-keys.controller';
import { AdminGuard, TenantGuard } from './auth/guards';
import { RedeliverDeliveryHandler } from './deliveries/commands/redeliver-delivery.command';
import { RATE_LIMITER, RateLimiter } from './auth/rate-limiter';
import { DeliveriesController } from './deliveries/deliveries.controller';
import {
  PauseEndpointHandler,
  RegisterEndpointHandler,
  RemoveEndpointHandler,
  ReplayDeliveriesHandler,
  ResumeEndpointHandler,
  RotateEndpointSecretHandler,
  SendTestWebhookHandler,
  UpdateEndpointHandler,
} from './endpoints/commands/endpoint.commands';
import { EndpointSecretSealer } from './endpoints/endpoint-secret-sealer';
import { EndpointRepository } from './endpoints/endpoint.repository';
import { EndpointsController } from './endpoints/endpoints.controller';
import { IncidentsController } from './incidents/incidents.controller';
import { RegisterMonitorHandler, RemoveMonitorHandler, UpdateMonitorHandler } from './monitors/commands/monitor.handlers';
import { MonitorRepository } from './monitors/monitor.repository';
import { MonitorsController } from './monitors/monitors.controller';
import { MonitorOperationsController } from './monitors/monitor-operations.controller';
import { SilencesController } from './silences/silences.controller';
import { ProbeResultsController } from './probe-results/probe-results.controller';
import { ReceiveStatusWebhookHandler } from './receivers/commands/receive-status-webhook.handler';
import { RegisterReceiverHandler, RemoveReceiverHandler } from './receivers/commands/receiver.commands';
import { IncomingHooksController } from './receivers/incoming-hooks.controller';
import { ReceiverRepository } from './receivers/receiver.repository';
import { ReceiversController } from './receivers/receivers.controller';
import {
  CreateTenantHandler,
  IssueApiKeyHandler,
  RevokeApiKeyHandler,
  RotateApiKeyHandler,
} from './tenants/commands/create-tenant.handler';
import { TenantController } from './tenants/tenant.controller';
import { Quotas } from './tenants/quotas';
import { TenantSettingsController } from './tenant-settings/tenant-settings.controller';
import { TenantsController } from './tenants/tenants.controller';
import { TenantScope } from './tenants/tenant-scope';

/** The admin token from the environment, or one generated now and printed once. */
function adminToken(config: TocsinConfig): string {
  if (config.TOCSIN_ADMIN_TOKEN) return config.TOCSIN_ADMIN_TOKEN;
  const token = randomBytes(24).toString('base64url');
  new Logger('api').warn(`TOCSIN_ADMIN_TOKEN is not set; generated admin token for this run: ${token}`);
  return token;
}

@Module({})
export class ApiModule {
  static forRoot(config: TocsinConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        ...serviceModules(config, 'api'),
        CqrsModule.forRoot(),
        KafkaModule.forApp(config, 'api'),
        SecretsModule,
      ],
      controllers: [
        TenantsController,
        TenantController,
        ApiKeysController,
        MonitorsController,
        MonitorOperationsController,
        SilencesController,
        TenantSettingsController,
        EndpointsController,
        DeliveriesController,
        IncidentsController,
        ProbeResultsController,
        ReceiversController,
        IncomingHooksController,
      ],
      providers: [
        { provide: ADMIN_TOKEN, useValue: adminToken(config) },
        { provide: RATE_LIMITER, useValue: new RateLimiter(config.TOCSIN_RATE_LIMIT_PER_SECOND, config.TOCSIN_RATE_LIMIT_BURST) },
        AdminGuard,
        TenantGuard,
        TenantScope,
        Quotas,
        MonitorRepository,
        EndpointRepository,
        CreateTenantHandler,
        IssueApiKeyHandler,
        RevokeApiKeyHandler,
        RotateApiKeyHandler,
        RegisterMonitorHandler,
        UpdateMonitorHandler,
        RemoveMonitorHandler,
        RegisterEndpointHandler,
        UpdateEndpointHandler,
        RemoveEndpointHandler,
        PauseEndpointHandler,
        ResumeEndpointHandler,
        SendTestWebhookHandler,
        RotateEndpointSecretHandler,
        ReplayDeliveriesHandler,
        RedeliverDeliveryHandler,
        EndpointSecretSealer,
        ReceiverRepository,
        RegisterReceiverHandler,
        RemoveReceiverHandler,
        ReceiveStatusWebhookHandler,
      ],
    };
  }
}
