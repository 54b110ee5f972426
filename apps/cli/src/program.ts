import { Command, Option } from 'commander';
import type { BodyOf } from '@tocsin/client';
import { admin } from './admin';
import { collect, Context, defined, headers, int, parseJson, readData, readFile, UsageError } from './context';

const MONITOR_COLUMNS = ['id', 'slug', 'name', 'kind', 'url', 'interval_seconds'];
const ENDPOINT_COLUMNS = ['id', 'name', 'url', 'status', 'events', 'severities'];
const DELIVERY_COLUMNS = ['id', 'event', 'status', 'attempt_count', 'last_http_status', 'endpoint_id', 'created_at'];
const INCIDENT_COLUMNS = ['dedup_key', 'status', 'severity', 'failure_layer', 'started_at', 'resolved_at'];
const RECEIVER_COLUMNS = ['id', 'name', 'monitor_id', 'status_field', 'url'];
const KEY_COLUMNS = ['id', 'prefix', 'created_at', 'revoked_at'];
const SILENCE_COLUMNS = ['id', 'monitor_id', 'severities', 'starts_at', 'ends_at', 'active', 'comment'];
const FINAL_DELIVERY = new Set(['delivered', 'dead_lettered', 'skipped', 'failed']);

const id = { path: (value: string) => ({ params: { path: { id: value } } }) };

/** Adds `list` paging options shared by every list. */
function paged(command: Command): Command {
  return command.option('--limit <n>', 'rows per page (1-200)').option('--cursor <cursor>', 'the next_cursor of the previous page');
}

function pageQuery(opts: { limit?: string; cursor?: string }): { limit?: number; cursor?: string } {
  return defined({ limit: opts.limit === undefined ? undefined : int(opts.limit, '--limit'), cursor: opts.cursor }) as {
    limit?: number;
    cursor?: string;
  };
}

function noun(program: Command, name: string, description: string): Command {
  return program.command(name).description(description);
}

function monitors(program: Command): void {
  const cmd = noun(program, 'monitors', 'MCP and HTTP services probed by Tocsin');
  paged(cmd.command('list').description('list monitors')).action(async (opts, c: Command) => {
    const ctx = Context.of(c);
    ctx.show(await ctx.call('listing monitors', () => ctx.api.GET('/v1/monitors', { params: { query: pageQuery(opts) } })), { list: MONITOR_COLUMNS });
  });
  cmd
    .command('show <id>')
    .description('show a monitor')
    .action(async (monitorId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      ctx.show(await ctx.call('reading monitor', () => ctx.api.GET('/v1/monitors/{id}', id.path(monitorId))), { record: true });
    });
  cmd
    .command('status <id>')
    .description("a monitor's status: up, failing, down, maintenance or unknown")
    .action(async (monitorId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      ctx.show(await ctx.call('reading status', () => ctx.api.GET('/v1/monitors/{id}/status', id.path(monitorId))), { record: true });
    });
  const monitorFields = (command: Command) =>
    command
      .option('--name <name>', 'display name')
      .option('--url <url>', 'the MCP or HTTP URL to probe')
      .addOption(new Option('--kind <kind>', 'what to probe').choices(['mcp', 'http']))
      .option('--interval <seconds>', 'seconds between probes')
      .option('--timeout-ms <ms>', 'probe timeout')
      .option('--confirm-after <n>', 'failed probes that open an incident')
      .option('--recover-after <n>', 'good probes that resolve it')
      .option('--header <name:value>', 'a header sent with every probe (repeatable)', collect)
      .option('--data <json|@file|->', 'further fields as JSON');
  const monitorBody = (opts: Record<string, string | string[] | undefined>) =>
    defined({
      ...readData(opts.data as string | undefined),
      name: opts.name,
      url: opts.url,
      kind: opts.kind,
      interval_seconds: opts.interval === undefined ? undefined : int(opts.interval as string, '--interval'),
      timeout_ms: opts.timeoutMs === undefined ? undefined : int(opts.timeoutMs as string, '--timeout-ms'),
      confirm_after: opts.confirmAfter === undefined ? undefined : int(opts.confirmAfter as string, '--confirm-after'),
      recover_after: opts.recoverAfter === undefined ? undefined : int(opts.recoverAfter as string, '--recover-after'),
      headers: headers(opts.header as string[] | undefined),
    });
  monitorFields(cmd.command('create').description('create a monitor').requiredOption('--slug <slug>', 'unique short name')).action(
    async (opts, c: Command) => {
      const ctx = Context.of(c);
      const body = { ...monitorBody(opts), slug: opts.slug } as BodyOf<'/v1/monitors', 'post'>;
      ctx.show(await ctx.call('creating monitor', () => ctx.api.POST('/v1/monitors', { body })), { record: true });
    },
  );
  monitorFields(cmd.command('update <id>').description('change a monitor')).action(async (monitorId: string, opts, c: Command) => {
    const ctx = Context.of(c);
    const body = monitorBody(opts) as BodyOf<'/v1/monitors/{id}', 'patch'>;
    ctx.show(await ctx.call('updating monitor', () => ctx.api.PATCH('/v1/monitors/{id}', { ...id.path(monitorId), body })), { record: true });
  });
  cmd
    .command('delete <id>')
    .description('delete a monitor')
    .action(async (monitorId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      await ctx.call('deleting monitor', () => ctx.api.DELETE('/v1/monitors/{id}', id.path(monitorId)));
      ctx.show({ deleted: monitorId }, { message: () => `deleted monitor ${monitorId}` });
    });
}

function endpoints(program: Command): void {
  const cmd = noun(program, 'endpoints', 'webhook endpoints that receive signed alerts');
  paged(cmd.command('list').description('list endpoints')).action(async (opts, c: Command) => {
    const ctx = Context.of(c);
    ctx.show(await ctx.call('listing endpoints', () => ctx.api.GET('/v1/endpoints', { params: { query: pageQuery(opts) } })), { list: ENDPOINT_COLUMNS });
  });
  cmd
    .command('show <id>')
    .description('show an endpoint with its delivery stats')
    .action(async (endpointId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      ctx.show(await ctx.call('reading endpoint', () => ctx.api.GET('/v1/endpoints/{id}', id.path(endpointId))), { record: true });
    });
  const endpointFields = (command: Command) =>
    command
      .option('--name <name>', 'display name')
      .option('--url <url>', 'where to POST alerts')
      .option('--event <type>', 'event type to send, or * (repeatable)', collect)
      .option('--severity <P1|P2|P3>', 'severity to send (repeatable)', collect)
      .option('--no-recovery', 'do not send downtime_resolved')
      .addOption(new Option('--method <method>', 'HTTP method').choices(['POST', 'PUT']))
      .option('--header <name:value>', 'a header sent with every delivery (repeatable)', collect)
      .option('--retry-schedule <seconds,...>', 'delays between attempts, e.g. 0,30,120')
      .option('--timeout-ms <ms>', 'attempt timeout (1000-30000)')
      .option('--routing-key <key>', 'a pagerduty endpoint: the Events API v2 integration key')
      .option('--slack-url <url>', 'a slack endpoint: its incoming webhook URL')
      .option('--to <address>', 'an email endpoint: a recipient (repeatable)', collect)
      .option('--broker <host:port>', 'a kafka endpoint: a bootstrap broker of its cluster (repeatable)', collect)
      .option('--topic <name>', 'a kafka endpoint: the topic its records go to')
      .option('--fallback <endpoint-id|none>', 'the endpoint that takes the P1s this one cannot deliver')
      .option('--data <json|@file|->', 'further fields as JSON');
  const endpointBody = (opts: Record<string, unknown>, creating: boolean) =>
    defined({
      ...readData(opts.data as string | undefined),
      name: opts.name,
      url: opts.url,
      events: opts.event,
      severities: opts.severity,
      include_recovery: opts.recovery === false ? false : creating ? undefined : undefined,
      method: opts.method,
      headers: headers(opts.header as string[] | undefined),
      retry_schedule_seconds:
        opts.retrySchedule === undefined ? undefined : String(opts.retrySchedule).split(',').map((s) => int(s.trim(), '--retry-schedule')),
      timeout_ms: opts.timeoutMs === undefined ? undefined : int(String(opts.timeoutMs), '--timeout-ms'),
      fallback_endpoint_id: opts.fallback === 'none' ? null : opts.fallback,
      config:
        [opts.routingKey, opts.slackUrl, opts.to, opts.broker, opts.topic].every((v) => v === undefined)
          ? undefined
          : defined({ routing_key: opts.routingKey, url: opts.slackUrl, to: opts.to, brokers: opts.broker, topic: opts.topic }),
    });
  endpointFields(cmd.command('create').description('create an endpoint (the answer shows its signing secret)'))
    .addOption(new Option('--type <type>', 'where deliveries go').choices(['webhook', 'pagerduty', 'slack', 'email', 'kafka']))
    .option('--secret <whsec_...>', 'use this signing secret instead of a generated one')
    .action(async (opts, c: Command) => {
      const ctx = Context.of(c);
      const body = defined({ ...endpointBody(opts, true), type: opts.type, secret: opts.secret }) as BodyOf<'/v1/endpoints', 'post'>;
      ctx.show(await ctx.call('creating endpoint', () => ctx.api.POST('/v1/endpoints', { body })), { record: true });
    });
  endpointFields(cmd.command('update <id>').description('change an endpoint')).action(async (endpointId: string, opts, c: Command) => {
    const ctx = Context.of(c);
    const body = endpointBody(opts, false) as BodyOf<'/v1/endpoints/{id}', 'patch'>;
    ctx.show(await ctx.call('updating endpoint', () => ctx.api.PATCH('/v1/endpoints/{id}', { ...id.path(endpointId), body })), { record: true });
  });
  cmd
    .command('delete <id>')
    .description('delete an endpoint')
    .action(async (endpointId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      await ctx.call('deleting endpoint', () => ctx.api.DELETE('/v1/endpoints/{id}', id.path(endpointId)));
      ctx.show({ deleted: endpointId }, { message: () => `deleted endpoint ${endpointId}` });
    });
  cmd
    .command('secret <id>')
    .description("the endpoint's current signing secret")
    .action(async (endpointId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      ctx.show(await ctx.call('reading secret', () => ctx.api.GET('/v1/endpoints/{id}/secret', id.path(endpointId))), { record: true });
    });
  cmd
    .command('test <id>')
    .description('send a webhook.test event through the real queue, signing and retries')
    .option('--wait', 'wait until the test delivery is delivered or dead-lettered')
    .action(async (endpointId: string, opts: { wait?: boolean }, c: Command) => {
      const ctx = Context.of(c);
      const queued = (await ctx.call('sending test webhook', () => ctx.untyped.POST('/v1/endpoints/{id}/test', id.path(endpointId)))) as {
        delivery_id: string;
      };
      ctx.show(opts.wait ? await waitForDelivery(ctx, queued.delivery_id) : queued, { record: true });
    });
  for (const [verb, text] of [
    ['pause', 'pause deliveries (they are recorded as skipped, and can be redelivered)'],
    ['resume', 'resume deliveries'],
  ] as const) {
    cmd
      .command(`${verb} <id>`)
      .description(text)
      .action(async (endpointId: string, _opts, c: Command) => {
        const ctx = Context.of(c);
        ctx.show(await ctx.call(`${verb === 'pause' ? 'pausing' : 'resuming'} endpoint`, () => ctx.untyped.POST(`/v1/endpoints/{id}/${verb}`, id.path(endpointId))), {
          record: true,
        });
      });
  }
  cmd
    .command('rotate-secret <id>')
    .description('a new signing secret; the old one keeps signing during the overlap')
    .option('--overlap <seconds>', 'how long the old secret stays valid (default 600)')
    .action(async (endpointId: string, opts: { overlap?: string }, c: Command) => {
      const ctx = Context.of(c);
      const body = defined({ overlap_seconds: opts.overlap === undefined ? undefined : int(opts.overlap, '--overlap') });
      ctx.show(await ctx.call('rotating secret', () => ctx.untyped.POST('/v1/endpoints/{id}/rotate-secret', { ...id.path(endpointId), body })), {
        record: true,
      });
    });
  cmd
    .command('replay <id>')
    .description('redeliver every failed or skipped delivery of the endpoint in a time range')
    .requiredOption('--from <iso-time>', 'start of the range')
    .requiredOption('--to <iso-time>', 'end of the range')
    .option('--dry-run', 'only count what would be replayed')
    .action(async (endpointId: string, opts: { from: string; to: string; dryRun?: boolean }, c: Command) => {
      const ctx = Context.of(c);
      const body = { from: opts.from, to: opts.to, dry_run: opts.dryRun === true };
      ctx.show(await ctx.call('replaying deliveries', () => ctx.untyped.POST('/v1/endpoints/{id}/replay', { ...id.path(endpointId), body })), {
        record: true,
      });
    });
  paged(cmd.command('deliveries <id>').description("the endpoint's deliveries").option('--status <status>', 'only this status')).action(
    async (endpointId: string, opts, c: Command) => {
      const ctx = Context.of(c);
      const query = defined({ ...pageQuery(opts), status: opts.status });
      ctx.show(await ctx.call('listing deliveries', () => ctx.api.GET('/v1/endpoints/{id}/deliveries', { params: { path: { id: endpointId }, query } })), {
        list: DELIVERY_COLUMNS,
      });
    },
  );
}

async function waitForDelivery(ctx: Context, deliveryId: string) {
  return ctx.waitFor(
    'waiting for the delivery',
    () => ok200(ctx, deliveryId),
    (d) => FINAL_DELIVERY.has(String(d.status)),
  );
}

function ok200(ctx: Context, deliveryId: string) {
  return ctx.call('reading delivery', () => ctx.api.GET('/v1/deliveries/{id}', id.path(deliveryId)));
}

function deliveries(program: Command): void {
  const cmd = noun(program, 'deliveries', 'webhook deliveries and their attempts');
  paged(
    cmd
      .command('list')
      .description("deliveries of one endpoint, or of every endpoint's first page")
      .option('--endpoint <id>', 'only this endpoint')
      .option('--status <status>', 'only this status'),
  ).action(async (opts: { endpoint?: string; status?: string; limit?: string; cursor?: string }, c: Command) => {
    const ctx = Context.of(c);
    const query = defined({ ...pageQuery(opts), status: opts.status });
    const endpointIds = opts.endpoint
      ? [opts.endpoint]
      : (await ctx.call('listing endpoints', () => ctx.api.GET('/v1/endpoints', { params: { query: { limit: 200 } } }))).data.map((e) => e.id);
    const pages = [];
    for (const endpointId of endpointIds) {
      pages.push(await ctx.call('listing deliveries', () => ctx.api.GET('/v1/endpoints/{id}/deliveries', { params: { path: { id: endpointId }, query } })));
    }
    const data = pages.flatMap((p) => p.data).sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    const next_cursor = opts.endpoint ? (pages[0]?.next_cursor ?? null) : null;
    ctx.show({ data, next_cursor }, { list: DELIVERY_COLUMNS });
  });
  cmd
    .command('show <id>')
    .description('a delivery with every attempt')
    .action(async (deliveryId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      ctx.show(await ok200(ctx, deliveryId), { record: true });
    });
  cmd
    .command('redeliver <id>')
    .description('send a delivery again (same delivery id, so the same webhook-id)')
    .option('--wait', 'wait until it is delivered or dead-lettered again')
    .action(async (deliveryId: string, opts: { wait?: boolean }, c: Command) => {
      const ctx = Context.of(c);
      const queued = await ctx.call('requesting redelivery', () => ctx.untyped.POST('/v1/deliveries/{id}/redeliver', id.path(deliveryId)));
      ctx.show(opts.wait ? await waitForDelivery(ctx, deliveryId) : (queued ?? { delivery_id: deliveryId }), { record: true });
    });
}

function incidents(program: Command): void {
  const cmd = noun(program, 'incidents', 'incidents opened by confirmed failures');
  paged(cmd.command('list').description('list incidents').addOption(new Option('--status <status>', 'only these').choices(['open', 'resolved']))).action(
    async (opts, c: Command) => {
      const ctx = Context.of(c);
      const query = defined({ ...pageQuery(opts), status: opts.status }) as { status?: 'open' | 'resolved' };
      ctx.show(await ctx.call('listing incidents', () => ctx.api.GET('/v1/incidents', { params: { query } })), { list: INCIDENT_COLUMNS });
    },
  );
  cmd
    .command('show <dedup_key>')
    .description('an incident with its timeline and deliveries')
    .action(async (dedupKey: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      ctx.show(await ctx.call('reading incident', () => ctx.api.GET('/v1/incidents/{dedupKey}', { params: { path: { dedupKey } } })), {
        record: true,
      });
    });
}

function receivers(program: Command): void {
  const cmd = noun(program, 'receivers', 'inbound status webhooks turned into probe results');
  paged(cmd.command('list').description('list receivers')).action(async (opts, c: Command) => {
    const ctx = Context.of(c);
    ctx.show(await ctx.call('listing receivers', () => ctx.api.GET('/v1/receivers', { params: { query: pageQuery(opts) } })), {
      list: RECEIVER_COLUMNS,
    });
  });
  cmd
    .command('show <id>')
    .description('show a receiver')
    .action(async (receiverId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      ctx.show(await ctx.call('reading receiver', () => ctx.api.GET('/v1/receivers/{id}', id.path(receiverId))), { record: true });
    });
  cmd
    .command('create')
    .description('create a receiver (the answer holds its URL)')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--status-field <path>', 'dot path of the status in the incoming JSON')
    .option('--monitor <id>', 'the monitor it reports for')
    .option('--service-field <path>', 'dot path matching a monitor by slug or name')
    .option('--message-field <path>', 'dot path of an error message')
    .option('--secret <secret>', 'HMAC secret callers sign with')
    .option('--signature-header <name>', 'header holding the signature')
    .option('--data <json|@file|->', 'further fields as JSON (e.g. mapping)')
    .action(async (opts, c: Command) => {
      const ctx = Context.of(c);
      const body = defined({
        ...readData(opts.data),
        name: opts.name,
        status_field: opts.statusField,
        monitor_id: opts.monitor,
        service_field: opts.serviceField,
        message_field: opts.messageField,
        secret: opts.secret,
        signature_header: opts.signatureHeader,
      });
      ctx.show(await ctx.call('creating receiver', () => ctx.api.POST('/v1/receivers', { body: body as BodyOf<'/v1/receivers', 'post'> })), { record: true });
    });
  cmd
    .command('delete <id>')
    .description('delete a receiver')
    .action(async (receiverId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      await ctx.call('deleting receiver', () => ctx.api.DELETE('/v1/receivers/{id}', id.path(receiverId)));
      ctx.show({ deleted: receiverId }, { message: () => `deleted receiver ${receiverId}` });
    });
  cmd
    .command('log <id>')
    .description("the receiver's last 50 calls, newest first")
    .action(async (receiverId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      ctx.show(await ctx.call('reading log', () => ctx.api.GET('/v1/receivers/{id}/log', id.path(receiverId))), {
        list: ['received_at', 'result', 'raw_status', 'mapped_status', 'source_ip'],
      });
    });
}

function keys(program: Command): void {
  const cmd = noun(program, 'keys', "this tenant's API keys (shown by prefix)");
  paged(cmd.command('list').description('list keys').option('--prefix <prefix>', 'only keys starting with this')).action(async (opts, c: Command) => {
    const ctx = Context.of(c);
    const query = defined({ ...pageQuery(opts), prefix: opts.prefix });
    ctx.show(await ctx.call('listing keys', () => ctx.api.GET('/v1/api-keys', { params: { query } })), { list: KEY_COLUMNS });
  });
  cmd
    .command('show <id>')
    .description('show a key')
    .action(async (keyId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      ctx.show(await ctx.call('reading key', () => ctx.api.GET('/v1/api-keys/{id}', id.path(keyId))), { record: true });
    });
  cmd
    .command('create')
    .description('issue another key for this tenant (shown once)')
    .action(async (_opts, c: Command) => {
      const ctx = Context.of(c);
      ctx.show(await ctx.call('issuing key', () => ctx.api.POST('/v1/api-keys')), { record: true });
    });
  cmd
    .command('delete <id>')
    .description('revoke a key: it answers 401 from now on')
    .action(async (keyId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      await ctx.call('revoking key', () => ctx.api.DELETE('/v1/api-keys/{id}', id.path(keyId)));
      ctx.show({ revoked: keyId }, { message: () => `revoked key ${keyId}` });
    });
  cmd
    .command('rotate <id>')
    .description('issue a new key and revoke this one')
    .action(async (keyId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      ctx.show(await ctx.call('rotating key', () => ctx.api.POST('/v1/api-keys/{id}/rotate', id.path(keyId))), { record: true });
    });
}

function tenant(program: Command): void {
  const cmd = noun(program, 'tenant', 'the tenant this API key belongs to');
  cmd
    .command('show')
    .description("the key's tenant {id, name}")
    .action(async (_opts, c: Command) => {
      const ctx = Context.of(c);
      ctx.show(await ctx.call('reading tenant', () => ctx.api.GET('/v1/tenant')), { record: true });
    });
  const admin = noun(program, 'tenants', 'operator commands (TOCSIN_ADMIN_TOKEN)');
  admin
    .command('create <name>')
    .description('create a tenant')
    .action(async (name: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      ctx.show(await ctx.call('creating tenant', () => ctx.admin.POST('/v1/tenants', { body: { name } })), { record: true });
    });
  paged(admin.command('list').description('list tenants')).action(async (opts, c: Command) => {
    const ctx = Context.of(c);
    ctx.show(await ctx.call('listing tenants', () => ctx.admin.GET('/v1/tenants', { params: { query: pageQuery(opts) } })), {
      list: ['id', 'name', 'created_at'],
    });
  });
  admin
    .command('issue-key <tenant-id>')
    .description("issue an API key for a tenant (shown once)")
    .action(async (tenantId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      ctx.show(await ctx.call('issuing key', () => ctx.admin.POST('/v1/tenants/{id}/api-keys', id.path(tenantId))), { record: true });
    });
}

function silences(program: Command): void {
  const cmd = noun(program, 'silences', 'silence pages for a while: matched alerts are recorded as skipped, not sent');
  cmd
    .command('create')
    .description('silence a monitor (or every monitor) until --ends-at, or for --for minutes')
    .option('--monitor <id>', 'only this monitor (default: every monitor of the tenant)')
    .option('--severity <P1|P2|P3>', 'only this severity (repeatable; default: all)', collect)
    .option('--starts-at <iso>', 'when it starts (default: now)')
    .option('--ends-at <iso>', 'when it ends')
    .option('--for <minutes>', 'how long from now, instead of --ends-at')
    .option('--comment <text>', 'why, shown with it')
    .action(async (opts, c: Command) => {
      const ctx = Context.of(c);
      if ((opts.endsAt === undefined) === (opts.for === undefined)) throw new UsageError('give one of --ends-at and --for');
      const endsAt = opts.endsAt ?? new Date(Date.now() + int(opts.for as string, '--for') * 60_000).toISOString();
      const body = defined({
        monitor_id: opts.monitor,
        severities: opts.severity,
        starts_at: opts.startsAt,
        ends_at: endsAt,
        comment: opts.comment,
      }) as BodyOf<'/v1/silences', 'post'>;
      ctx.show(await ctx.call('creating silence', () => ctx.api.POST('/v1/silences', { body })), { record: true });
    });
  paged(cmd.command('list').description('list silences active or to come').option('--all', 'ended ones too')).action(async (opts, c: Command) => {
    const ctx = Context.of(c);
    const query = { ...pageQuery(opts), state: opts.all ? ('all' as const) : ('current' as const) };
    ctx.show(await ctx.call('listing silences', () => ctx.api.GET('/v1/silences', { params: { query } })), { list: SILENCE_COLUMNS });
  });
  cmd
    .command('expire <id>')
    .description('end a silence now (one not started yet is dropped)')
    .action(async (silenceId: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      await ctx.call('expiring silence', () => ctx.api.DELETE('/v1/silences/{id}', id.path(silenceId)));
      ctx.show({ expired: silenceId }, { message: () => `expired silence ${silenceId}` });
    });
}

function probeResults(program: Command): void {
  const cmd = noun(program, 'probe-results', 'results pushed by external probers');
  cmd
    .command('push <file>')
    .description('push results from a JSON file, or - for stdin: {"results": [...]} or a bare array')
    .action(async (file: string, _opts, c: Command) => {
      const ctx = Context.of(c);
      const parsed = parseJson(readFile(file), file === '-' ? 'stdin' : file);
      const body = (Array.isArray(parsed) ? { results: parsed } : parsed) as BodyOf<'/v1/probe-results', 'post'>;
      if (typeof body !== 'object' || body === null) throw new UsageError('expected {"results": [...]} or an array of results');
      ctx.show(await ctx.call('pushing results', () => ctx.api.POST('/v1/probe-results', { body })), { record: true });
    });
}

/** The whole `tocsin` command tree; `main.ts` runs it and turns errors into exit codes. */
export function buildProgram(version: string): Command {
  const program = new Command('tocsin')
    .description('Tocsin from the command line: TOCSIN_URL (default http://127.0.0.1:8080) and TOCSIN_API_KEY')
    .version(version)
    .option('--api-url <url>', 'API address (default $TOCSIN_URL)')
    .option('--api-key <key>', 'tenant API key (default $TOCSIN_API_KEY)')
    .option('--json', 'print the API answer as JSON, for scripts')
    .exitOverride()
    .showHelpAfterError();
  monitors(program);
  endpoints(program);
  deliveries(program);
  incidents(program);
  receivers(program);
  keys(program);
  tenant(program);
  silences(program);
  probeResults(program);
  admin(program);
  return program;
}
