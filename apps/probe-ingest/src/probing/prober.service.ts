import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { TocsinConfig } from '@tocsin/config';
import type { MonitorEntity } from '@tocsin/database';
import { probeMcpServer } from '@tocsin/mcp-probe';
import { guardedLookup, isPrivateHost } from '@tocsin/net-guard';
import { TOCSIN_CONFIG } from '@tocsin/runtime';
import { sealedIn, SecretBox } from '@tocsin/secrets';
import { guardedAgent, probeHttpService, type ProbeOutcome } from './http-probe';

type Probed = Pick<
  MonitorEntity,
  'id' | 'kind' | 'url' | 'timeout_ms' | 'headers' | 'sealed_headers' | 'expected_status' | 'mcp_generation'
>;

/** What a successful MCP probe learned about the server, remembered on the monitor. */
export interface Learned {
  generation: 'handshake' | 'stateless';
  protocolVersion: string | null;
  toolsCount: number | null;
}

export interface Probe {
  outcome: ProbeOutcome;
  learned?: Learned;
}

/**
 * Probes one monitor by its kind; never throws for a failing target, only reports it.
 * Unless private URLs are allowed, connections to private, loopback and link-local
 * addresses are refused at connect time, as the dispatcher refuses them for webhooks.
 */
@Injectable()
export class ProberService implements OnApplicationShutdown {
  private readonly logger = new Logger(ProberService.name);
  private readonly guarded;

  constructor(
    @Inject(TOCSIN_CONFIG) config: Pick<TocsinConfig, 'TOCSIN_ALLOW_PRIVATE_URLS'>,
    private readonly box: SecretBox,
  ) {
    this.guarded = config.TOCSIN_ALLOW_PRIVATE_URLS ? undefined : guardedAgent(guardedLookup);
  }

  /** Undefined when the monitor's sealed headers cannot be opened (logged; no result is made up). */
  async probe(monitor: Probed): Promise<Probe | undefined> {
    const headers = this.headersOf(monitor);
    if (!headers) return undefined;
    if (this.guarded && isPrivateHost(new URL(monitor.url).hostname)) {
      return { outcome: { ok: false, failure_layer: 'transport', error: 'refused: a private, loopback or link-local address', latency_ms: 0 } };
    }
    const options = { timeoutMs: monitor.timeout_ms, headers };
    if (monitor.kind === 'http') {
      const outcome = await probeHttpService(monitor.url, {
        ...options,
        ...(monitor.expected_status ? { expectedStatus: monitor.expected_status } : {}),
        ...(this.guarded ? { dispatcher: this.guarded } : {}),
      });
      return { outcome };
    }
    const outcome = await probeMcpServer(monitor.url, {
      ...options,
      ...(monitor.mcp_generation ? { generation: monitor.mcp_generation } : {}),
      ...(this.guarded ? { lookup: guardedLookup } : {}),
    });
    const learned: Learned | undefined =
      outcome.ok && outcome.generation !== 'unknown'
        ? { generation: outcome.generation, protocolVersion: outcome.protocol_version ?? null, toolsCount: outcome.tools?.length ?? null }
        : undefined;
    return {
      outcome: {
        ok: outcome.ok,
        latency_ms: outcome.latency_ms,
        ...(outcome.failure_layer ? { failure_layer: outcome.failure_layer } : {}),
        ...(outcome.error ? { error: outcome.error } : {}),
        ...(outcome.http_status ? { http_status: outcome.http_status } : {}),
        ...(outcome.tools_hash ? { tools_hash: outcome.tools_hash } : {}),
        ...(outcome.tools ? { tools: outcome.tools } : {}),
      },
      ...(learned ? { learned } : {}),
    };
  }

  private headersOf(monitor: Probed): Record<string, string> | undefined {
    if (!monitor.sealed_headers) return monitor.headers;
    try {
      return { ...monitor.headers, ...this.box.openJson<Record<string, string>>(monitor.sealed_headers, sealedIn.monitorHeaders(monitor.id)) };
    } catch (err) {
      // The message names the key id, never the value.
      this.logger.error(`monitor ${monitor.id}: cannot open its sealed headers: ${(err as Error).message}`);
      return undefined;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.guarded?.close();
  }
}
