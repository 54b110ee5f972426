import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { TocsinConfig } from '@tocsin/config';
import type { MonitorEntity } from '@tocsin/database';
import { probeMcpServer } from '@tocsin/mcp-probe';
import { SsrfPolicy } from '@tocsin/net-guard';
import { TOCSIN_CONFIG } from '@tocsin/runtime';
import { sealedIn, SecretBox } from '@tocsin/secrets';
import type { Agent } from 'undici';
import { probeHttpService, type ProbeOutcome } from './http-probe';

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

type ProberConfig = Pick<TocsinConfig, 'TOCSIN_ALLOW_PRIVATE_URLS'> &
  Partial<Pick<TocsinConfig, 'TOCSIN_ALLOWED_PRIVATE_CIDRS' | 'TOCSIN_PROBE_MAX_RESPONSE_BYTES'>>;

/**
 * Probes one monitor by its kind; never throws for a failing target, only reports it.
 * Unless private URLs are allowed, every connection (HTTP probes, both MCP generations and
 * both SDK transports) goes through the SSRF guard's connector, which refuses non-public
 * addresses whether written as a literal or resolved from a name, as the dispatcher does
 * for webhooks; TOCSIN_ALLOWED_PRIVATE_CIDRS lets named ranges through.
 */
@Injectable()
export class ProberService implements OnApplicationShutdown {
  private readonly logger = new Logger(ProberService.name);
  private readonly policy: SsrfPolicy | undefined;
  /** HTTP probes share one guarded pool; each MCP probe makes (and destroys) its own. */
  private readonly httpAgent: Agent | undefined;
  private readonly connect: ReturnType<SsrfPolicy['connector']> | undefined;
  private readonly maxResponseBytes: number | undefined;

  constructor(
    @Inject(TOCSIN_CONFIG) config: ProberConfig,
    private readonly box: SecretBox,
  ) {
    this.policy = config.TOCSIN_ALLOW_PRIVATE_URLS ? undefined : new SsrfPolicy(config.TOCSIN_ALLOWED_PRIVATE_CIDRS ?? []);
    this.httpAgent = this.policy?.agent();
    this.connect = this.policy?.connector();
    this.maxResponseBytes = config.TOCSIN_PROBE_MAX_RESPONSE_BYTES;
  }

  /** Undefined when the monitor's sealed headers cannot be opened (logged; no result is made up). */
  async probe(monitor: Probed): Promise<Probe | undefined> {
    const headers = this.headersOf(monitor);
    if (!headers) return undefined;
    const refused = this.refusal(monitor.url);
    if (refused) return { outcome: { ok: false, failure_layer: 'transport', error: refused, latency_ms: 0 } };
    const options = { timeoutMs: monitor.timeout_ms, headers };
    if (monitor.kind === 'http') {
      const outcome = await probeHttpService(monitor.url, {
        ...options,
        ...(monitor.expected_status ? { expectedStatus: monitor.expected_status } : {}),
        ...(this.httpAgent ? { dispatcher: this.httpAgent } : {}),
      });
      return { outcome };
    }
    const outcome = await probeMcpServer(monitor.url, {
      ...options,
      ...(monitor.mcp_generation ? { generation: monitor.mcp_generation } : {}),
      ...(this.connect ? { connect: this.connect } : {}),
      ...(this.maxResponseBytes ? { maxResponseBytes: this.maxResponseBytes } : {}),
    });
    const learned: Learned | undefined =
      outcome.ok && outcome.generation !== 'unknown'
        ? { generation: outcome.generation, protocolVersion: outcome.protocol_version ?? null, toolsCount: outcome.tools?.length ?? null }
        : undefined;
    return {
      outcome: {
        ok: outcome.ok,
        latency_ms: outcome.latency_ms,
        ...(outcome.auth ? { auth: outcome.auth } : {}),
        ...(outcome.failure_layer ? { failure_layer: outcome.failure_layer } : {}),
        ...(outcome.error ? { error: outcome.error } : {}),
        ...(outcome.http_status ? { http_status: outcome.http_status } : {}),
        ...(outcome.tools_hash ? { tools_hash: outcome.tools_hash } : {}),
        ...(outcome.tools ? { tools: outcome.tools } : {}),
      },
      ...(learned ? { learned } : {}),
    };
  }

  /** Saves a connection attempt for a literal the connector would refuse anyway; names are judged as they resolve. */
  private refusal(url: string): string | undefined {
    if (!this.policy) return undefined;
    let hostname: string;
    try {
      hostname = new URL(url).hostname;
    } catch {
      return undefined; // the probes answer an invalid URL themselves
    }
    const reason = this.policy.hostBlockReason(hostname);
    return reason === undefined ? undefined : `refused to connect: ${reason}`;
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
    await this.httpAgent?.close();
  }
}
