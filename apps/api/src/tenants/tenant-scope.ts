import { Injectable } from '@nestjs/common';
import {
  DataSource,
  type EntityTarget,
  type FindManyOptions,
  type FindOptionsWhere,
  type ObjectLiteral,
  type Repository,
  type SelectQueryBuilder,
} from 'typeorm';
import { TenantContext } from './tenant-context';

type TenantOwned = ObjectLiteral & { tenant_id: string };
type Where<T> = FindOptionsWhere<T>;

/**
 * A repository whose every query is confined to the request's tenant. Callers never write
 * `tenant_id` themselves: it is added here from the tenant context, so a handler cannot
 * forget it, and a tenant passed explicitly must agree with the one the key authenticated.
 */
export class TenantScopedRepository<T extends TenantOwned> {
  constructor(
    private readonly repo: Repository<T>,
    private readonly expected?: string,
  ) {}

  /** The tenant of this request (throws when there is none or when it disagrees with `expected`). */
  get tenantId(): string {
    const tenantId = TenantContext.require();
    if (this.expected !== undefined && this.expected !== tenantId) {
      throw new Error('a query named a tenant other than the authenticated one');
    }
    return tenantId;
  }

  private scope(where: Where<T> = {}): Where<T> {
    return { ...where, tenant_id: this.tenantId } as Where<T>;
  }

  findOneBy(where: Where<T>): Promise<T | null> {
    return this.repo.findOneBy(this.scope(where));
  }

  findBy(where: Where<T> = {}): Promise<T[]> {
    return this.repo.findBy(this.scope(where));
  }

  find(options: Omit<FindManyOptions<T>, 'where'> & { where?: Where<T> }): Promise<T[]> {
    return this.repo.find({ ...options, where: this.scope(options.where) });
  }

  existsBy(where: Where<T>): Promise<boolean> {
    return this.repo.existsBy(this.scope(where));
  }

  countBy(where: Where<T> = {}): Promise<number> {
    return this.repo.countBy(this.scope(where));
  }

  /** Inserts a row for this tenant; the row cannot name another. */
  save(row: Omit<T, 'tenant_id' | 'created_at' | 'updated_at'> & Partial<Pick<T, 'tenant_id'>>): Promise<T> {
    return this.repo.save({ ...row, tenant_id: this.tenantId } as unknown as T);
  }

  async insert(row: Omit<T, 'tenant_id' | 'created_at' | 'updated_at'> & Partial<Pick<T, 'tenant_id'>>): Promise<void> {
    await this.repo.insert({ ...row, tenant_id: this.tenantId } as unknown as T);
  }

  /** Updates matching rows of this tenant; answers how many changed. */
  async update(where: Where<T>, changes: Partial<T>): Promise<number> {
    const { tenant_id: _ignored, ...rest } = changes;
    if (Object.keys(rest).length === 0) return this.countBy(where);
    const result = await this.repo.update(this.scope(where), rest as Parameters<Repository<T>['update']>[1]);
    return result.affected ?? 0;
  }

  /** Deletes matching rows of this tenant; answers how many went. */
  async delete(where: Where<T>): Promise<number> {
    return (await this.repo.delete(this.scope(where))).affected ?? 0;
  }

  /** A query builder that already reads `<alias>.tenant_id = <tenant>`; add conditions with andWhere. */
  createQueryBuilder(alias: string): SelectQueryBuilder<T> {
    return this.repo.createQueryBuilder(alias).where(`${alias}.tenant_id = :scopedTenantId`, { scopedTenantId: this.tenantId });
  }
}

/** Hands out tenant-scoped repositories; the one way API code reads or writes tenant rows. */
@Injectable()
export class TenantScope {
  constructor(private readonly dataSource: DataSource) {}

  /** The tenant the request's key belongs to. */
  get tenantId(): string {
    return TenantContext.require();
  }

  repository<T extends TenantOwned>(entity: EntityTarget<T>, expectedTenantId?: string): TenantScopedRepository<T> {
    return new TenantScopedRepository(this.dataSource.getRepository(entity), expectedTenantId);
  }

  /**
   * Raw SQL for reads the query builder cannot express. The tenant is always `$1`; the
   * statement must filter on it, or it is refused before it runs.
   */
  query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    if (!/tenant_id\s*=\s*\$1\b/.test(sql)) throw new Error('a tenant-scoped statement must filter on tenant_id = $1');
    return this.dataSource.query(sql, [this.tenantId, ...params]);
  }
}
