'use strict';
// Static checks of the observability files: infra/prometheus (alerting and recording rules,
// their unit tests, an example scrape configuration, the metric contract) and infra/grafana
// (the dashboard). Nothing here needs the apps, a Prometheus server or Grafana; it needs
// Prometheus's promtool (infra/local/lib/tools.js, installed by `npm test`):
//  - `promtool check rules` on rules.yaml and `promtool test rules` on rules.test.yaml, where
//    every alert has a case that fires it and a case that keeps it quiet;
//  - `promtool check config` on prometheus.example.yml;
//  - the dashboard JSON against a schema of the fields Grafana needs (no npm package ships
//    Grafana's own dashboard JSON schema: @grafana/schema and @grafana/grafana-foundation-sdk
//    ship TypeScript only), unique panel ids, panels that neither overlap nor leave their row,
//    and every PromQL expression parsed by promtool (through a throwaway rules file);
//  - every tocsin_* metric, label and label value the rules, the dashboard and
//    docs/operations.md use is in the contract, infra/prometheus/metrics.json, and every other
//    metric is one of prom-client's default metrics (or `up`);
//  - docs/operations.md has a section for each alert's runbook_url, and names only settings,
//    operator commands and npm scripts that exist.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Module = require('node:module');
const { spawnSync } = require('node:child_process');
const YAML = require('yaml');
const Ajv = require('ajv');
const { findPromtool } = require('../lib/tools');

const REPO = path.resolve(__dirname, '..', '..', '..');
const PROM_DIR = path.join(REPO, 'infra', 'prometheus');
const RULES_FILE = path.join(PROM_DIR, 'rules.yaml');
const RULES_TEST_FILE = path.join(PROM_DIR, 'rules.test.yaml');
const PROM_CONFIG_FILE = path.join(PROM_DIR, 'prometheus.example.yml');
const CONTRACT_FILE = path.join(PROM_DIR, 'metrics.json');
const DASHBOARD_FILE = path.join(REPO, 'infra', 'grafana', 'tocsin.json');
const OPERATIONS_FILE = path.join(REPO, 'docs', 'operations.md');
const rel = (f) => path.relative(REPO, f);

const APPS = ['api', 'probe-ingest', 'severity-router', 'dispatcher'];
const SEVERITIES = ['critical', 'warning', 'info'];
const ROW_TITLES = ['Probes', 'Ingest', 'Router', 'Dispatcher', 'Process'];

// ---------------------------------------------------------------------------------------------
// promtool

const PROMTOOL = findPromtool();
const PROMTOOL_MISSING =
  'promtool not found (looked at $PROMTOOL, PATH, /usr/bin/promtool, /usr/local/bin/promtool). ' +
  'Install it with `node -e "require(\'./infra/local/lib/tools\').ensurePromtool()"` from the repository root ' +
  '(`npm test` does this), or Debian\'s `prometheus` package.';

/** Runs promtool; fails the calling test with the install hint when it is missing. */
function promtool(args, opts = {}) {
  if (!PROMTOOL) throw new Error(PROMTOOL_MISSING);
  const result = spawnSync(PROMTOOL, args, { encoding: 'utf8', timeout: 60_000, ...opts });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tocsin-observability-'));
}

// ---------------------------------------------------------------------------------------------
// Loading

function parseYamlFile(file) {
  const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'), { prettyErrors: true });
  return { errors: [...doc.errors, ...doc.warnings].map((e) => e.message), value: doc.toJS() };
}

const CONTRACT = JSON.parse(fs.readFileSync(CONTRACT_FILE, 'utf8'));
const CONTRACT_BY_NAME = new Map(CONTRACT.metrics.map((m) => [m.name, m]));
const TARGET_LABELS = new Set(CONTRACT.targetLabels);

const RULES = parseYamlFile(RULES_FILE);
const RULE_GROUPS = (RULES.value && RULES.value.groups) || [];
const ALL_RULES = RULE_GROUPS.flatMap((g) => g.rules || []);
const ALERTS = ALL_RULES.filter((r) => r.alert);
const RECORDS = ALL_RULES.filter((r) => r.record);
const RULES_TEST = parseYamlFile(RULES_TEST_FILE);

const DASHBOARD_TEXT = fs.readFileSync(DASHBOARD_FILE, 'utf8');
let DASHBOARD;
try {
  DASHBOARD = JSON.parse(DASHBOARD_TEXT);
} catch {
  DASHBOARD = undefined; // the parse test below says why
}
const dashboardPanels = () => (DASHBOARD.panels || []).flatMap((p) => [p, ...(p.panels || [])]);
const dashboardTargets = () =>
  dashboardPanels().flatMap((p) => (p.targets || []).map((t) => ({ panel: p, target: t, where: `panel ${p.id} "${p.title}" ${t.refId}` })));

const OPERATIONS = fs.existsSync(OPERATIONS_FILE) ? fs.readFileSync(OPERATIONS_FILE, 'utf8') : '';

/** prom-client's default metric names, from the prom-client the apps use (packages/runtime). */
async function promClientDefaultMetricNames() {
  const requireRuntime = Module.createRequire(path.join(REPO, 'packages', 'runtime', 'package.json'));
  const client = requireRuntime('prom-client');
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const metrics = await registry.getMetricsAsJSON();
  registry.clear();
  return new Set(
    metrics.flatMap((m) => (m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name])),
  );
}

// ---------------------------------------------------------------------------------------------
// PromQL, as far as these checks need it

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

/**
 * The selectors of an expression: metric names (bare or before `{...}`), their label matchers,
 * and the labels of by/without/on/ignoring/group_* clauses. Strings are taken out first, so
 * nothing inside a label value is read as a name.
 */
function analyse(expr) {
  const strings = [];
  let text = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, (s) => {
    strings.push(s.startsWith('`') ? s.slice(1, -1) : JSON.parse(s.startsWith("'") ? `"${s.slice(1, -1).replace(/"/g, '\\"')}"` : s));
    return `\u0000${strings.length - 1}\u0000`;
  });
  const groupingLabels = [];
  text = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_m, _kw, labels) => {
    groupingLabels.push(...labels.split(',').map((l) => l.trim()).filter(Boolean));
    return ' ';
  });
  const selectors = [];
  text = text.replace(/([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}/g, (_m, name, body) => {
    const matchers = body
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean)
      .map((m) => {
        const parsed = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*\u0000(\d+)\u0000$/.exec(m);
        if (!parsed) throw new Error(`unreadable matcher "${m}" in ${expr}`);
        return { label: parsed[1], op: parsed[2], value: strings[Number(parsed[3])] };
      });
    const nameMatcher = matchers.find((m) => m.label === '__name__');
    selectors.push({ name: name || (nameMatcher && nameMatcher.value), matchers: matchers.filter((m) => m.label !== '__name__') });
    return ' ';
  });
  text = text.replace(/\[[^\]]*\]/g, ' ').replace(/\u0000\d+\u0000/g, ' ');
  for (const m of text.matchAll(/(?<![\w.$:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:]|\s*\()/g)) {
    if (!PROMQL_KEYWORDS.has(m[1].toLowerCase())) selectors.push({ name: m[1], matchers: [] });
  }
  return { selectors, groupingLabels };
}

/** The contract entry of a served series name (histograms have three), or undefined. */
function contractEntryOf(name) {
  if (CONTRACT_BY_NAME.has(name)) {
    const m = CONTRACT_BY_NAME.get(name);
    return m.type === 'histogram' ? undefined : { metric: m, bucket: false };
  }
  for (const suffix of HISTOGRAM_SUFFIXES) {
    const m = name.endsWith(suffix) && CONTRACT_BY_NAME.get(name.slice(0, -suffix.length));
    if (m && m.type === 'histogram') return { metric: m, bucket: suffix === '_bucket' };
  }
  return undefined;
}

const RECORDED = new Map(RECORDS.map((r) => [r.record, r.expr]));

/** The contract metrics behind a name: itself, or the ones a recording rule is computed from. */
function underlyingMetrics(name, seen = new Set()) {
  const entry = contractEntryOf(name);
  if (entry) return [entry];
  if (!RECORDED.has(name) || seen.has(name)) return [];
  seen.add(name);
  return analyse(RECORDED.get(name)).selectors.flatMap((s) => underlyingMetrics(s.name, seen));
}

/**
 * Problems with the names and labels of one expression: unknown tocsin_* names, labels the
 * contract does not give a metric, values outside a label's listed values, and non-Tocsin
 * metrics that are neither `up` nor prom-client defaults.
 */
function metricProblems(expr, { defaultNames }) {
  const problems = [];
  const { selectors, groupingLabels } = analyse(expr);
  const knownLabels = new Set([...TARGET_LABELS]);
  for (const { name, matchers } of selectors) {
    if (!name) {
      problems.push(`a selector without a metric name: ${expr}`);
      continue;
    }
    if (name.includes(':')) {
      if (!RECORDED.has(name)) problems.push(`${name} is not a recording rule of ${rel(RULES_FILE)}`);
    } else if (name.startsWith('tocsin_')) {
      if (!contractEntryOf(name)) problems.push(`${name} is not in ${rel(CONTRACT_FILE)}`);
    } else if (name !== 'up' && !defaultNames.has(name)) {
      problems.push(`${name} is neither a tocsin_* metric, nor up, nor a prom-client default metric`);
    }
    const entries = underlyingMetrics(name);
    const labels = new Map();
    for (const { metric, bucket } of entries) {
      for (const [label, values] of Object.entries(metric.labels)) labels.set(label, values);
      if (bucket) labels.set('le', null);
    }
    for (const label of labels.keys()) knownLabels.add(label);
    if (entries.length === 0) continue;
    for (const { label, op, value } of matchers) {
      if (TARGET_LABELS.has(label)) continue;
      if (!labels.has(label)) {
        problems.push(`${name} has no label ${label}`);
        continue;
      }
      const values = labels.get(label);
      if (!values || op.startsWith('!')) continue;
      const wanted = op === '=' ? [value] : /^[A-Za-z0-9_]+(\|[A-Za-z0-9_]+)*$/.test(value) ? value.split('|') : [];
      for (const v of wanted) if (!values.includes(v)) problems.push(`${name}{${label}} has no value "${v}" (listed: ${values.join(', ')})`);
    }
  }
  for (const label of groupingLabels) {
    if (!knownLabels.has(label)) problems.push(`grouping by ${label}, which no metric of the expression has: ${expr}`);
  }
  return problems;
}

/** Parses expressions with promtool: each becomes a recording rule of a throwaway file. */
function promqlParseProblems(exprs) {
  const dir = tmpDir();
  try {
    const file = path.join(dir, 'exprs.rules.yaml');
    const rules = exprs.map(({ expr }, i) => ({ record: `check:expr_${i}`, expr }));
    fs.writeFileSync(file, YAML.stringify({ groups: [{ name: 'exprs', rules }] }));
    const { status, output } = promtool(['check', 'rules', file]);
    if (status === 0) return [];
    // promtool names the first failing rule by its 1-based index in the group.
    const index = /rule (\d+)/.exec(output);
    const which = index ? exprs[Number(index[1]) - 1] : undefined;
    return [`${which ? `${which.where}: ${which.expr}\n` : ''}${output.trim()}`];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1 for repeats. */
function markdownAnchors(markdown) {
  const anchors = new Set();
  const counts = new Map();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = counts.get(base) || 0;
    counts.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

function durationOk(d) {
  return typeof d === 'string' && /^(\d+(ms|s|m|h|d|w|y))+$/.test(d);
}

// ---------------------------------------------------------------------------------------------

describe('promtool', () => {
  test('is installed (PATH or /usr/bin/promtool; `npm test` installs it)', () => {
    if (!PROMTOOL) throw new Error(PROMTOOL_MISSING);
    const { status, output } = promtool(['--version']);
    expect(status).toBe(0);
    expect(output).toMatch(/promtool, version \d+\.\d+/);
  });
});

describe('the metric contract (infra/prometheus/metrics.json)', () => {
  test('one entry per name, Prometheus naming: counters end in _total, nothing else does, no reserved labels', () => {
    const names = CONTRACT.metrics.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const m of CONTRACT.metrics) {
      expect(m.name).toMatch(/^tocsin_[a-z][a-z0-9_]*$/);
      expect(['counter', 'gauge', 'histogram']).toContain(m.type);
      expect(m.name.endsWith('_total')).toBe(m.type === 'counter');
      for (const app of [m.app].flat()) expect(APPS).toContain(app);
      expect(typeof m.labels).toBe('object');
      for (const [label, values] of Object.entries(m.labels)) {
        expect(label).toMatch(/^[a-z][a-z0-9_]*$/);
        expect(['le', 'quantile', ...TARGET_LABELS]).not.toContain(label);
        if (values !== null) {
          expect(Array.isArray(values) && values.length > 0).toBe(true);
          expect(new Set(values).size).toBe(values.length);
        }
      }
    }
  });
});

describe('Prometheus rules (infra/prometheus/rules.yaml)', () => {
  test('are valid YAML with no duplicate keys', () => {
    expect(RULES.errors).toEqual([]);
    expect(RULE_GROUPS.length).toBeGreaterThan(0);
  });

  test('`promtool check rules` accepts them', () => {
    const { status, output } = promtool(['check', 'rules', RULES_FILE]);
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
    expect(status).toBe(0);
  });

  test('the alerts the operations guide answers are all defined', () => {
    expect(ALERTS.map((a) => a.alert).sort()).toEqual(
      [
        'TocsinAppDown',
        'TocsinDLQGrowing',
        'TocsinDeadLetterRateHigh',
        'TocsinDeliveryAttemptLatencyHigh',
        'TocsinDispatcherConsumerLagHigh',
        'TocsinEndpointBreakerOpen',
        'TocsinManyEndpointBreakersOpen',
        'TocsinNoProbesRun',
        'TocsinOutboxOldestAgeHigh',
        'TocsinOutboxRefused',
        'TocsinProbesOverdue',
        'TocsinRouterConsumerLagHigh',
        'TocsinTargetDown',
      ].sort(),
    );
  });

  test.each(ALERTS.map((a) => [a.alert, a]))('%s: severity, summary, description, a runbook section, a sane `for`', (name, alert) => {
    expect(name).toMatch(/^Tocsin[A-Z][A-Za-z]+$/);
    expect(Object.keys(alert).filter((k) => !['alert', 'expr', 'for', 'labels', 'annotations', 'keep_firing_for'].includes(k))).toEqual([]);
    expect(SEVERITIES).toContain(alert.labels && alert.labels.severity);
    expect(Object.keys(alert.annotations).sort()).toEqual(['description', 'runbook_url', 'summary']);
    for (const v of Object.values(alert.annotations)) expect(String(v).trim().length).toBeGreaterThan(10);
    if (alert.for !== undefined) expect(durationOk(alert.for)).toBe(true);
    // A page should not wait for half an hour, nor fire on a single evaluation, unless it
    // is about an event (a counter's increase) rather than a state.
    const isEvent = /increase\(/.test(alert.expr) && alert.for === undefined;
    if (alert.labels.severity === 'critical') expect(alert.for).toMatch(/^([1-9]|1[0-5])m$/);
    else if (!isEvent) expect(alert.for).toBeDefined();
    const anchor = `docs/operations.md#${name.toLowerCase()}`;
    expect(alert.annotations.runbook_url).toBe(anchor);
    expect([...markdownAnchors(OPERATIONS)]).toContain(name.toLowerCase());
  });

  test('recording rules are named level:metric:operation and are used by an alert', () => {
    for (const r of RECORDS) {
      expect(r.record).toMatch(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/);
      expect(ALERTS.some((a) => a.expr.includes(r.record)) || RECORDS.some((o) => o !== r && o.expr.includes(r.record))).toBe(true);
    }
  });

  test('every metric, label and label value they use is in the contract', async () => {
    const defaultNames = await promClientDefaultMetricNames();
    const problems = ALL_RULES.flatMap((r) => metricProblems(r.expr, { defaultNames }).map((p) => `${r.alert || r.record}: ${p}`));
    expect(problems).toEqual([]);
  });

  test('the `up` alerts select the tocsin-<app> jobs of prometheus.example.yml', () => {
    for (const a of ALERTS.filter((x) => /\bup\{/.test(x.expr))) expect(a.expr).toMatch(/up\{job=~"tocsin-\.\+"\}/);
  });
});

describe('rule unit tests (infra/prometheus/rules.test.yaml)', () => {
  const suite = () => RULES_TEST.value;
  const alertCases = () => suite().tests.flatMap((t) => (t.alert_rule_test || []).map((c) => ({ test: t.name, ...c })));

  test('are valid YAML and test rules.yaml', () => {
    expect(RULES_TEST.errors).toEqual([]);
    expect(suite().rule_files).toEqual(['rules.yaml']);
    for (const t of suite().tests) expect(typeof t.name).toBe('string');
  });

  test('`promtool test rules` passes', () => {
    const { status, output } = promtool(['test', 'rules', RULES_TEST_FILE], { cwd: PROM_DIR });
    expect(output).toMatch(/SUCCESS/);
    expect(output).not.toMatch(/FAILED/);
    expect(status).toBe(0);
  });

  test.each(ALERTS.map((a) => [a.alert]))('%s has a case that fires it and a case that keeps it quiet', (name) => {
    const cases = alertCases().filter((c) => c.alertname === name);
    expect(cases.filter((c) => (c.exp_alerts || []).length > 0).length).toBeGreaterThan(0);
    expect(cases.filter((c) => (c.exp_alerts || []).length === 0).length).toBeGreaterThan(0);
  });

  test('the lag, outbox age, DLQ and breaker alerts are each shown quiet in a scenario of their own, not only before they fire', () => {
    for (const name of ['TocsinRouterConsumerLagHigh', 'TocsinOutboxOldestAgeHigh', 'TocsinDLQGrowing', 'TocsinEndpointBreakerOpen', 'TocsinManyEndpointBreakersOpen']) {
      const quietScenarios = suite().tests.filter(
        (t) =>
          (t.alert_rule_test || []).some((c) => c.alertname === name && (c.exp_alerts || []).length === 0) &&
          !(t.alert_rule_test || []).some((c) => c.alertname === name && (c.exp_alerts || []).length > 0),
      );
      const clearsAgain = suite().tests.some((t) => {
        const own = (t.alert_rule_test || []).filter((c) => c.alertname === name);
        const firing = own.filter((c) => (c.exp_alerts || []).length > 0).map((c) => c.eval_time);
        return own.some((c) => (c.exp_alerts || []).length === 0 && firing.some((f) => durationSeconds(c.eval_time) > durationSeconds(f)));
      });
      expect({ name, quiet: quietScenarios.length > 0 || clearsAgain }).toEqual({ name, quiet: true });
    }
  });

  test('the series they feed in use only contract metrics, labels and values', async () => {
    const defaultNames = await promClientDefaultMetricNames();
    const series = suite().tests.flatMap((t) => t.input_series.map((s) => s.series));
    expect(series.flatMap((s) => metricProblems(s, { defaultNames }))).toEqual([]);
  });
});

function durationSeconds(d) {
  const units = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let total = 0;
  for (const [, n, u] of String(d).matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(n) * units[u];
  return total;
}

describe('example Prometheus configuration (infra/prometheus/prometheus.example.yml)', () => {
  const config = () => parseYamlFile(PROM_CONFIG_FILE);

  test('`promtool check config` accepts it, with its rule file', () => {
    const { errors, value } = config();
    expect(errors).toEqual([]);
    // Debian's Prometheus build leaves out Kubernetes service discovery, so promtool would
    // refuse kubernetes_sd_configs; the Kubernetes job is checked with a static target in its
    // place (relabelling included), the rest as it is.
    const checked = structuredClone(value);
    for (const job of checked.scrape_configs) {
      if (job.kubernetes_sd_configs) {
        expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod' }]);
        delete job.kubernetes_sd_configs;
        job.static_configs = [{ targets: ['pod.example:8080'] }];
      }
    }
    const dir = tmpDir();
    try {
      fs.writeFileSync(path.join(dir, 'prometheus.yml'), YAML.stringify(checked));
      for (const f of value.rule_files) fs.copyFileSync(path.join(PROM_DIR, f), path.join(dir, f));
      const { status, output } = promtool(['check', 'config', path.join(dir, 'prometheus.yml')]);
      expect(output).toMatch(/SUCCESS/);
      expect(status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('names a job tocsin-<app> for every app, as the rules and the dashboard expect', () => {
    const { value } = config();
    expect(value.rule_files).toEqual(['rules.yaml']);
    const staticJobs = value.scrape_configs.filter((j) => j.static_configs).map((j) => j.job_name);
    expect(staticJobs.sort()).toEqual(APPS.map((a) => `tocsin-${a}`).sort());
    const k8s = value.scrape_configs.find((j) => j.kubernetes_sd_configs);
    const jobRelabel = k8s.relabel_configs.find((r) => r.target_label === 'job');
    expect(jobRelabel).toMatchObject({ source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_component'], replacement: 'tocsin-$1' });
    expect(k8s.relabel_configs.some((r) => r.target_label === 'namespace')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// The dashboard

/** The fields Grafana (schemaVersion 36+) needs of a dashboard, its panels, targets and variables. */
const DASHBOARD_SCHEMA = {
  type: 'object',
  required: ['title', 'uid', 'schemaVersion', 'version', 'panels', 'templating', 'time', 'annotations'],
  properties: {
    id: { type: ['integer', 'null'] },
    uid: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,40}$' },
    title: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    schemaVersion: { type: 'integer', minimum: 36, maximum: 41 },
    version: { type: 'integer', minimum: 0 },
    editable: { type: 'boolean' },
    graphTooltip: { type: 'integer', enum: [0, 1, 2] },
    refresh: { anyOf: [{ type: 'string', pattern: '^(\\d+[smhd])?$' }, { const: false }] },
    timezone: { type: 'string' },
    time: {
      type: 'object',
      required: ['from', 'to'],
      properties: { from: { type: 'string', minLength: 1 }, to: { type: 'string', minLength: 1 } },
    },
    annotations: { type: 'object', required: ['list'], properties: { list: { type: 'array' } } },
    links: { type: 'array' },
    templating: {
      type: 'object',
      required: ['list'],
      additionalProperties: false,
      properties: { list: { type: 'array', items: { $ref: '#/definitions/variable' } } },
    },
    panels: { type: 'array', minItems: 1, items: { $ref: '#/definitions/panel' } },
  },
  definitions: {
    datasourceRef: {
      type: 'object',
      required: ['type', 'uid'],
      additionalProperties: false,
      properties: { type: { const: 'prometheus' }, uid: { const: '${datasource}' } },
    },
    gridPos: {
      type: 'object',
      required: ['h', 'w', 'x', 'y'],
      additionalProperties: false,
      properties: {
        h: { type: 'integer', minimum: 1 },
        w: { type: 'integer', minimum: 1, maximum: 24 },
        x: { type: 'integer', minimum: 0, maximum: 23 },
        y: { type: 'integer', minimum: 0 },
      },
    },
    target: {
      type: 'object',
      required: ['refId', 'expr', 'datasource'],
      properties: {
        refId: { type: 'string', pattern: '^[A-Z]$' },
        expr: { type: 'string', minLength: 1 },
        legendFormat: { type: 'string' },
        datasource: { $ref: '#/definitions/datasourceRef' },
        editorMode: { enum: ['code', 'builder'] },
        range: { type: 'boolean' },
        instant: { type: 'boolean' },
        interval: { type: 'string' },
      },
    },
    panel: {
      type: 'object',
      required: ['id', 'type', 'title', 'gridPos'],
      properties: {
        id: { type: 'integer', minimum: 1 },
        type: { enum: ['row', 'timeseries', 'stat', 'gauge', 'bargauge', 'table', 'text', 'heatmap', 'state-timeline'] },
        title: { type: 'string', minLength: 1 },
        description: { type: 'string' },
        gridPos: { $ref: '#/definitions/gridPos' },
        datasource: { $ref: '#/definitions/datasourceRef' },
        targets: { type: 'array', minItems: 1, items: { $ref: '#/definitions/target' } },
        fieldConfig: {
          type: 'object',
          required: ['defaults', 'overrides'],
          properties: {
            defaults: {
              type: 'object',
              properties: {
                unit: { enum: ['ops', 'opm', 'reqps', 's', 'ms', 'short', 'none', 'bytes', 'percentunit'] },
                thresholds: {
                  type: 'object',
                  required: ['mode', 'steps'],
                  properties: {
                    mode: { enum: ['absolute', 'percentage'] },
                    steps: {
                      type: 'array',
                      minItems: 1,
                      items: { type: 'object', required: ['color', 'value'], properties: { color: { type: 'string' }, value: { type: ['number', 'null'] } } },
                    },
                  },
                },
              },
            },
            overrides: { type: 'array' },
          },
        },
        options: { type: 'object' },
        collapsed: { type: 'boolean' },
        panels: { type: 'array', items: { $ref: '#/definitions/panel' } },
      },
      if: { properties: { type: { const: 'row' } } },
      then: { required: ['collapsed', 'panels'], not: { required: ['targets'] }, properties: { gridPos: { type: 'object', properties: { h: { const: 1 }, w: { const: 24 }, x: { const: 0 } } } } },
      else: { required: ['datasource', 'targets', 'fieldConfig', 'options'], not: { required: ['panels'] } },
    },
    variable: {
      type: 'object',
      required: ['name', 'type'],
      properties: {
        name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        label: { type: 'string' },
        type: { enum: ['query', 'datasource', 'custom', 'constant', 'interval', 'textbox', 'adhoc'] },
        hide: { enum: [0, 1, 2] },
        multi: { type: 'boolean' },
        includeAll: { type: 'boolean' },
        allValue: { type: ['string', 'null'] },
        refresh: { enum: [0, 1, 2] },
      },
      allOf: [
        {
          if: { properties: { type: { const: 'query' } } },
          then: {
            required: ['datasource', 'query', 'definition', 'refresh'],
            properties: {
              datasource: { $ref: '#/definitions/datasourceRef' },
              query: {
                anyOf: [{ type: 'string', minLength: 1 }, { type: 'object', required: ['query'], properties: { query: { type: 'string', minLength: 1 } } }],
              },
            },
          },
        },
        { if: { properties: { type: { const: 'datasource' } } }, then: { required: ['query'], properties: { query: { const: 'prometheus' } } } },
      ],
    },
  },
};

const GRAFANA_BUILTINS = { __rate_interval: '5m', __interval: '1m', __range: '1h', __range_s: '3600', __interval_ms: '60000' };

/** An expression with Grafana's variables replaced as Grafana would with "All" selected. */
function substituteVariables(expr) {
  const vars = new Map(DASHBOARD.templating.list.map((v) => [v.name, v]));
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, a, b) => {
    const name = a || b;
    if (name in GRAFANA_BUILTINS) return GRAFANA_BUILTINS[name];
    const v = vars.get(name);
    if (!v) throw new Error(`unknown dashboard variable ${whole} in ${expr}`);
    return v.allValue || '.*';
  });
}

function variableQuery(v) {
  return typeof v.query === 'string' ? v.query : v.query.query;
}

describe('Grafana dashboard (infra/grafana/tocsin.json)', () => {
  test('is valid JSON', () => {
    expect(() => JSON.parse(DASHBOARD_TEXT)).not.toThrow();
  });

  test('validates against the dashboard schema (fields Grafana needs: title, uid, schemaVersion, panels, targets, templating)', () => {
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    const validate = ajv.compile(DASHBOARD_SCHEMA);
    const ok = validate(DASHBOARD);
    expect(ok ? [] : validate.errors.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)).toEqual([]);
    expect(DASHBOARD.schemaVersion).toBeGreaterThanOrEqual(38);
  });

  test('has a Prometheus datasource variable and namespace/job variables, and uses only variables it defines', () => {
    const vars = DASHBOARD.templating.list;
    expect(vars.map((v) => v.name)).toEqual(['datasource', 'namespace', 'job']);
    expect(vars[0]).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const v of vars.slice(1)) expect(v).toMatchObject({ type: 'query', includeAll: true, multi: true });
    const used = new Set();
    const record = (text) => {
      for (const m of text.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g)) used.add(m[1] || m[2]);
    };
    record(JSON.stringify(DASHBOARD.panels));
    for (const v of vars.filter((x) => x.type === 'query')) record(variableQuery(v));
    const defined = new Set([...vars.map((v) => v.name), ...Object.keys(GRAFANA_BUILTINS)]);
    expect([...used].filter((u) => !defined.has(u))).toEqual([]);
  });

  test('panel ids are unique', () => {
    const ids = dashboardPanels().map((p) => p.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  test('panels stay within the 24 columns and do not overlap', () => {
    const top = DASHBOARD.panels;
    const overlaps = [];
    for (const p of top) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    for (let i = 0; i < top.length; i++) {
      for (let j = i + 1; j < top.length; j++) {
        const a = top[i].gridPos;
        const b = top[j].gridPos;
        if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) overlaps.push(`${top[i].id} and ${top[j].id}`);
      }
    }
    expect(overlaps).toEqual([]);
  });

  test('rows Probes, Ingest, Router, Dispatcher, Process, each panel under its own row', () => {
    const rows = DASHBOARD.panels.filter((p) => p.type === 'row');
    expect(rows.map((r) => r.title)).toEqual(ROW_TITLES);
    const byY = [...DASHBOARD.panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x);
    expect(byY.map((p) => p.id)).toEqual(DASHBOARD.panels.map((p) => p.id));
    rows.forEach((row, i) => {
      const next = rows[i + 1];
      const members = DASHBOARD.panels.filter((p) => p.type !== 'row' && p.gridPos.y > row.gridPos.y && (!next || p.gridPos.y < next.gridPos.y));
      expect({ row: row.title, panels: members.length > 0 }).toEqual({ row: row.title, panels: true });
      if (next) for (const p of members) expect(p.gridPos.y + p.gridPos.h).toBeLessThanOrEqual(next.gridPos.y);
    });
  });

  test('every PromQL expression parses (promtool), Grafana variables substituted', () => {
    const exprs = dashboardTargets().map(({ target, where }) => ({ where, expr: substituteVariables(target.expr) }));
    for (const v of DASHBOARD.templating.list.filter((x) => x.type === 'query')) {
      const m = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(variableQuery(v));
      expect(m).not.toBeNull();
      exprs.push({ where: `variable ${v.name}`, expr: substituteVariables(m[1]) });
    }
    expect(exprs.length).toBeGreaterThan(20);
    expect(promqlParseProblems(exprs)).toEqual([]);
  });

  test('every panel query filters on the namespace and job variables', () => {
    const missing = dashboardTargets()
      .filter(({ target }) => analyse(target.expr).selectors.some((s) => !s.matchers.some((m) => m.label === 'namespace' && m.value === '$namespace') || !s.matchers.some((m) => m.label === 'job' && m.value === '$job')))
      .map(({ where }) => where);
    expect(missing).toEqual([]);
  });

  test('every metric, label and label value it uses is in the contract (or a prom-client default metric)', async () => {
    const defaultNames = await promClientDefaultMetricNames();
    const problems = dashboardTargets().flatMap(({ target, where }) => metricProblems(target.expr, { defaultNames }).map((p) => `${where}: ${p}`));
    expect(problems).toEqual([]);
  });

  test('shows every metric of the contract, and the process metrics RSS, event-loop lag and heap', () => {
    const shown = new Set(dashboardTargets().flatMap(({ target }) => analyse(target.expr).selectors.map((s) => s.name)));
    const unshown = CONTRACT.metrics
      .filter((m) => !(m.type === 'histogram' ? HISTOGRAM_SUFFIXES.some((s) => shown.has(m.name + s)) : shown.has(m.name)))
      .map((m) => m.name);
    expect(unshown).toEqual([]);
    for (const name of ['process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) expect(shown).toContain(name);
  });

  test('histogram quantiles aggregate by le and read _bucket series', () => {
    for (const { target, where } of dashboardTargets()) {
      if (!target.expr.includes('histogram_quantile')) continue;
      expect({ where, ok: /histogram_quantile\(0\.\d+, sum by \(([a-z_]+, )*le\) \(rate\(tocsin_[a-z_]+_bucket\{/.test(target.expr) }).toEqual({ where, ok: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The operations guide

describe('operations guide (docs/operations.md)', () => {
  test('exists, with the sections the brief names', () => {
    expect(OPERATIONS.length).toBeGreaterThan(0);
    const anchors = markdownAnchors(OPERATIONS);
    for (const a of ['deploy', 'scale', 'upgrade', 'back-up-and-restore', 'rotate-the-encryption-key', 'read-the-dashboard', 'alerts']) {
      expect([...anchors]).toContain(a);
    }
  });

  test('every section link within it resolves', () => {
    const anchors = markdownAnchors(OPERATIONS);
    const links = [...OPERATIONS.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.filter((l) => !anchors.has(l))).toEqual([]);
  });

  test('names only settings the apps (or the CLI) read', () => {
    const envSource = fs.readFileSync(path.join(REPO, 'packages', 'config', 'src', 'env.ts'), 'utf8');
    const settings = new Set([...envSource.matchAll(/^\s{2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]));
    const cliSource = fs.readdirSync(path.join(REPO, 'apps', 'cli', 'src')).map((f) => fs.readFileSync(path.join(REPO, 'apps', 'cli', 'src', f), 'utf8')).join('\n');
    const named = new Set([...OPERATIONS.matchAll(/\b((?:TOCSIN|KAFKA)_[A-Z0-9_]+|DATABASE_URL)\b/g)].map((m) => m[1]));
    expect([...named].filter((n) => !settings.has(n) && !cliSource.includes(n))).toEqual([]);
    expect(named.has('TOCSIN_MIGRATE_ON_BOOT')).toBe(true);
    expect(named.has('TOCSIN_ENCRYPTION_KEY')).toBe(true);
  });

  test('names only `tocsin admin` commands and npm scripts that exist', () => {
    const adminSource = fs.readFileSync(path.join(REPO, 'apps', 'cli', 'src', 'admin.ts'), 'utf8');
    const commands = new Set([...adminSource.matchAll(/\.command\('([a-z-]+)'\)/g)].map((m) => m[1]));
    const used = [...OPERATIONS.matchAll(/tocsin admin ([a-z-]+)/g)].map((m) => m[1]);
    expect(used.filter((c) => !commands.has(c))).toEqual([]);
    expect(used).toContain('reseal');
    const scripts = require(path.join(REPO, 'package.json')).scripts;
    const npmRuns = [...OPERATIONS.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]);
    expect(npmRuns.filter((s) => !(s in scripts))).toEqual([]);
  });

  test('names only metrics of the contract (or prom-client defaults)', async () => {
    const defaultNames = await promClientDefaultMetricNames();
    const names = new Set([...OPERATIONS.matchAll(/\b((?:tocsin|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]));
    expect([...names].filter((n) => !contractEntryOf(n) && !CONTRACT_BY_NAME.has(n) && !defaultNames.has(n))).toEqual([]);
  });

  test('has a section for every alert, in the alerts chapter', () => {
    const alertsChapter = OPERATIONS.slice(OPERATIONS.search(/^## Alerts\s*$/m));
    const anchors = markdownAnchors(alertsChapter);
    expect(ALERTS.map((a) => a.alert.toLowerCase()).filter((a) => !anchors.has(a))).toEqual([]);
  });
});
