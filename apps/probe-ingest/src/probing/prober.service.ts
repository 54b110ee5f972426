import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { TocsinConfig } from '@tocsin/config';
import type { MonitorEntity } from '@tocsin/database';
import { probeMcpServer } from '@tocsin/mcp-probe';
import { guardedLookup, isPrivateHost } from '@tocsin/net-guard';
import { TOCSIN_CONFIG } from '@tocsin/runtime';
import { guardedAgent, probeHttpService, type ProbeOutcome } from './http-probe';

type Probed = Pick<MonitorEntity, 'kind' | 'url' | 'timeout_ms' | 'headers'>;

/**
 * Probes one monitor by its kind; never throws for a failing target, only reports it.
 * Unless private URLs are allowed, connections to private, loopback and link-local
 * addresses are refused at connect time, as the dispatcher refuses them for webhooks.
 */
@Injectable()
export class ProberService implements OnApplicationShutdown {
  private readonly guarded;

  constructor(@Inject(TOCSIN_CONFIG) private readonly config: Pick<TocsinConfig, 'TOCSIN_ALLOW_PRIVATE_URLS'>) {
    this.guarded = config.TOCSIN_ALLOW_PRIVATE_URLS ? undefined : guardedAgent(guardedLookup);
  }

  async probe(monitor: Probed): Promise<ProbeOutcome> {
    if (this.guarded && isPrivateHost(new URL(monitor.url).hostname)) {
      return { ok: false, failure_layer: 'transport', error: 'refused: a private, loopback or link-local address', latency_ms: 0 };
    }
    const options = { timeoutMs: monitor.timeout_ms, headers: monitor.headers };
    if (monitor.kind === 'http') return probeHttpService(monitor.url, { ...options, ...(this.guarded ? { dispatcher: this.guarded } : {}) });
    const outcome = await probeMcpServer(monitor.url, { ...options, ...(this.guarded ? { lookup: guardedLookup } : {}) });
    return {
      ok: outcome.ok,
      latency_ms: outcome.latency_ms,
      ...(outcome.failure_layer ? { failure_layer: outcome.failure_layer } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(outcome.http_status ? { http_status: outcome.http_status } : {}),
      ...(outcome.tools_hash ? { tools_hash: outcome.tools_hash } : {}),
      ...(outcome.tools ? { tools: outcome.tools } : {}),
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.guarded?.close();
  }
}
