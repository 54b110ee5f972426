import { Controller, Get, Global, HttpStatus, Injectable, Module, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';

export type ReadinessCheck = () => Promise<boolean> | boolean;

/** Components register what "ready" means for them (database reachable, consumer joined). */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private draining = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** Called on SIGTERM: the pod leaves the Service before it stops consuming. */
  startDraining(): void {
    this.draining = true;
  }

  async evaluate(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const results: Record<string, boolean> = { accepting_traffic: !this.draining };
    for (const [name, check] of this.checks) {
      try {
        results[name] = await check();
      } catch {
        results[name] = false;
      }
    }
    return { ready: Object.values(results).every(Boolean), checks: results };
  }
}

/** One registry per app instance, so several apps can share a process in tests. */
@Injectable()
export class MetricsRegistry extends Registry {
  constructor() {
    super();
    collectDefaultMetrics({ register: this });
  }
}

@Controller()
export class HealthController {
  constructor(
    private readonly readiness: ReadinessRegistry,
    private readonly metrics: MetricsRegistry,
  ) {}

  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(@Res() res: Response) {
    const { ready, checks } = await this.readiness.evaluate();
    res.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json({ status: ready ? 'ok' : 'unavailable', checks });
  }

  @Get('metrics')
  async scrape(@Res() res: Response) {
    res.setHeader('content-type', this.metrics.contentType);
    res.send(await this.metrics.metrics());
  }
}

@Global()
@Module({
  controllers: [HealthController],
  providers: [ReadinessRegistry, MetricsRegistry],
  exports: [ReadinessRegistry, MetricsRegistry],
})
export class HealthModule {}
