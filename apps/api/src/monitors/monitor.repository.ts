import { Injectable } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
import { MaintenanceWindowEntity, MonitorEntity, MonitorStateEntity, IncidentEntity } from '@tocsin/database';
import { keysetWhere } from '../common/keyset';
import type { ListQuery } from '../common/pagination';

/** Every method takes the tenant: a query without it does not compile. */
@Injectable()
export class MonitorRepository {
  private readonly monitors: Repository<MonitorEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.monitors = dataSource.getRepository(MonitorEntity);
  }

  find(tenantId: string, id: string): Promise<MonitorEntity | null> {
    return this.monitors.findOneBy({ tenant_id: tenantId, id });
  }

  slugTaken(tenantId: string, slug: string): Promise<boolean> {
    return this.monitors.existsBy({ tenant_id: tenantId, slug });
  }

  list(tenantId: string, query: ListQuery): Promise<MonitorEntity[]> {
    const qb = this.monitors.createQueryBuilder('m').where('m.tenant_id = :tenantId', { tenantId });
    return keysetWhere(qb, 'm', query).getMany();
  }

  insert(monitor: Omit<MonitorEntity, 'created_at' | 'updated_at'>): Promise<MonitorEntity> {
    return this.monitors.save(monitor);
  }

  async update(tenantId: string, id: string, changes: Partial<MonitorEntity>): Promise<MonitorEntity | null> {
    await this.monitors.update({ tenant_id: tenantId, id }, changes);
    return this.find(tenantId, id);
  }

  async remove(tenantId: string, id: string): Promise<boolean> {
    const result = await this.monitors.delete({ tenant_id: tenantId, id });
    return (result.affected ?? 0) > 0;
  }

  state(tenantId: string, id: string): Promise<MonitorStateEntity | null> {
    return this.dataSource.getRepository(MonitorStateEntity).findOneBy({ tenant_id: tenantId, monitor_id: id });
  }

  openIncident(tenantId: string, id: string): Promise<IncidentEntity | null> {
    return this.dataSource.getRepository(IncidentEntity).findOneBy({ tenant_id: tenantId, monitor_id: id, status: 'open' });
  }

  activeMaintenance(tenantId: string, id: string): Promise<MaintenanceWindowEntity | null> {
    return this.dataSource
      .getRepository(MaintenanceWindowEntity)
      .createQueryBuilder('w')
      .where('w.tenant_id = :tenantId AND w.monitor_id = :id AND w.starts_at <= now() AND w.ends_at > now()', { tenantId, id })
      .orderBy('w.ends_at', 'DESC')
      .getOne();
  }
}
