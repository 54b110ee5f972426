'use strict';
// The `npm start` demo: a tenant, a webhook receiver that prints what it gets, and an MCP
// server (official SDK) that goes down and comes back on a loop so the whole flow shows.
const http = require('node:http');
const { Webhook } = require('standardwebhooks');
const { startMcpServer } = require('@tocsin/testing');
const { say } = require('./setup');

const DOWN_AFTER_MS = 10_000;
const UP_AFTER_MS = 12_000;
const DEMO_TENANT = 'demo';

async function api(baseUrl, token, method, path, body) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A plain HTTP receiver that verifies each webhook with the public standardwebhooks package. */
function startReceiver(port, getSecret) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let valid = false;
      try {
        new Webhook(getSecret()).verify(raw, req.headers);
        valid = true;
      } catch {
        valid = false;
      }
      let body = {};
      try {
        body = JSON.parse(raw);
      } catch {
        body = {};
      }
      const extra = body.event === 'downtime_resolved' ? ` after ${body.duration_seconds}s` : ` layer=${body.failure_layer}`;
      say(
        `webhook received: ${body.event} severity=${body.severity} dedup_key=${body.dedup_key}${extra} ` +
          `signature ${valid ? 'valid' : 'INVALID'} (attempt ${req.headers['x-tocsin-attempt']})`,
      );
      res.writeHead(200).end('ok');
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

/** Reuses the demo tenant of an earlier run (same database) rather than piling up new ones. */
async function demoTenant(apiUrl, adminToken) {
  const { data } = await api(apiUrl, adminToken, 'GET', '/v1/tenants?limit=200');
  const tenant = data.find((t) => t.name === DEMO_TENANT) ?? (await api(apiUrl, adminToken, 'POST', '/v1/tenants', { name: DEMO_TENANT }));
  const { key } = await api(apiUrl, adminToken, 'POST', `/v1/tenants/${tenant.id}/api-keys`, {});
  return { tenant, key };
}

async function upsert(apiUrl, key, collection, match, body) {
  const { data } = await api(apiUrl, key, 'GET', `/v1/${collection}?limit=200`);
  const existing = data.find(match);
  if (!existing) return api(apiUrl, key, 'POST', `/v1/${collection}`, body);
  const { slug: _slug, secret: _secret, ...changes } = body;
  return api(apiUrl, key, 'PATCH', `/v1/${collection}/${existing.id}`, changes);
}

async function startDemo({ apiUrl, adminToken, receiverPort = 8090, mcpPort = 8091 }) {
  let secret = '';
  const receiver = await startReceiver(receiverPort, () => secret);
  const mcp = await startMcpServer({ port: mcpPort });
  const { tenant, key } = await demoTenant(apiUrl, adminToken);
  const endpoint = await upsert(apiUrl, key, 'endpoints', (e) => e.name === 'demo receiver', {
    name: 'demo receiver',
    url: `http://127.0.0.1:${receiverPort}/webhooks`,
    retry_schedule_seconds: [0, 2, 5, 10],
  });
  secret = (await api(apiUrl, key, 'GET', `/v1/endpoints/${endpoint.id}/secret`)).secret;
  const monitor = await upsert(apiUrl, key, 'monitors', (m) => m.slug === 'demo-mcp', {
    slug: 'demo-mcp',
    name: 'Demo MCP server',
    url: mcp.url,
    kind: 'mcp',
    interval_seconds: 1,
    timeout_ms: 2000,
    confirm_after: 3,
  });
  say(`demo tenant ${tenant.id}, API key ${key}`);
  say(`demo monitor ${monitor.id} probes ${mcp.url} every second; webhooks go to 127.0.0.1:${receiverPort}`);

  let timer;
  let stopped = false;
  const cycle = async (down) => {
    if (stopped) return;
    if (down) {
      say('demo: stopping the MCP server — expect downtime_started (P1, transport) after 3 failed probes');
      await mcp.stop();
    } else {
      say('demo: starting the MCP server again — expect downtime_resolved with the same dedup_key');
      await mcp.start();
    }
    timer = setTimeout(() => void cycle(!down), down ? UP_AFTER_MS : DOWN_AFTER_MS * 3);
  };
  timer = setTimeout(() => void cycle(true), DOWN_AFTER_MS);

  return {
    tenantId: tenant.id,
    apiKey: key,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await mcp.close();
      await new Promise((resolve) => receiver.close(resolve));
    },
  };
}

module.exports = { startDemo };
