import { Injectable } from '@nestjs/common';
import { MaintenanceWindowEntity, MonitorEntity, MonitorStateEntity, IncidentEntity } from '@tocsin/database';
import { keysetWhere } from '../common/keyset';
import type { ListQuery } from '../common/pagination';
import { TenantScope } from '../tenants/tenant-scope';

/**
 * Every method takes the tenant, so a query without it does not compile, and runs through
 * the request's tenant scope, which adds `tenant_id` itself and refuses a tenant other than
 * the authenticated one.
 */
@Injectable()
export class MonitorRepository {
  constructor(private readonly scope: TenantScope) {}

  private monitors(tenantId: string) {
    return this.scope.repository(MonitorEntity, tenantId);
  }

  find(tenantId: string, id: string): Promise<MonitorEntity | null> {
    return this.monitors(tenantId).findOneBy({ id });
  }

  slugTaken(tenantId: string, slug: string): Promise<boolean> {
    return this.monitors(tenantId).existsBy({ slug });
  }

  list(tenantId: string, query: ListQuery): Promise<MonitorEntity[]> {
    return keysetWhere(this.monitors(tenantId).createQueryBuilder('m'), 'm', query).getMany();
  }

  insert(monitor: Omit<MonitorEntity, 'created_at' | 'updated_at'>): Promise<MonitorEntity> {
    return this.monitors(monitor.tenant_id).save(monitor);
  }

  async update(tenantId: string, id: string, changes: Partial<MonitorEntity>): Promise<MonitorEntity | null> {
    await this.monitors(tenantId).update({ id }, changes);
    return this.find(tenantId, id);
  }

  async remove(tenantId: string, id: string): Promise<boolean> {
    return (await this.monitors(tenantId).delete({ id })) > 0;
  }

  state(tenantId: string, id: string): Promise<MonitorStateEntity | null> {
    return this.scope.repository(MonitorStateEntity, tenantId).findOneBy({ monitor_id: id });
  }

  openIncident(tenantId: string, id: string): Promise<IncidentEntity | null> {
    return this.scope.repository(IncidentEntity, tenantId).findOneBy({ monitor_id: id, status: 'open' });
  }

  activeMaintenance(tenantId: string, id: string): Promise<MaintenanceWindowEntity | null> {
    return this.scope
      .repository(MaintenanceWindowEntity, tenantId)
      .createQueryBuilder('w')
      .andWhere('w.monitor_id = :id AND w.starts_at <= now() AND w.ends_at > now()', { id })
      .orderBy('w.ends_at', 'DESC')
      .getOne();
  }
}
