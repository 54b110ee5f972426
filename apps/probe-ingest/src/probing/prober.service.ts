import { Injectable } from '@nestjs/common';
import type { MonitorEntity } from '@tocsin/database';
import { probeMcpServer } from '@tocsin/mcp-probe';
import { probeHttpService, type ProbeOutcome } from './http-probe';

/** Probes one monitor by its kind; never throws for a failing target, only reports it. */
@Injectable()
export class ProberService {
  async probe(monitor: Pick<MonitorEntity, 'kind' | 'url' | 'timeout_ms' | 'headers'>): Promise<ProbeOutcome> {
    const options = { timeoutMs: monitor.timeout_ms, headers: monitor.headers };
    if (monitor.kind === 'http') return probeHttpService(monitor.url, options);
    const outcome = await probeMcpServer(monitor.url, options);
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
}
