'use strict';
// A throwaway single-node KRaft Kafka for local runs, tests and CI, built from Maven Central jars
// so a fresh clone needs only Java 17+ and Maven. See docs/local-kafka.md.
const { spawn, execFile } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const net = require('node:net');
const path = require('node:path');
const { Kafka, logLevel } = require('kafkajs');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const POM = path.join(REPO_ROOT, 'infra', 'kafka', 'pom.xml');
const DEFAULT_CACHE_DIR = path.join(REPO_ROOT, '.cache', 'kafka');
const MARKER = '.resolved.json';
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;
const noop = () => {};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024, ...opts }, (error, stdout, stderr) =>
      resolve({ error, output: `${stdout}${stderr}` }),
    );
  });
}

// Maven colours its output even in batch mode; escape codes only clutter an error message.
const tail = (text, lines = 40) => text.replace(/\x1b\[[0-9;]*m/g, '').trimEnd().split('\n').slice(-lines).join('\n');

async function tailFile(file, lines) {
  try {
    return tail(await fsp.readFile(file, 'utf8'), lines) || '(log is empty)';
  } catch {
    return '(no log written)';
  }
}

function javaBin() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

let javaChecked;
function checkJava() {
  javaChecked ??= (async () => {
    const java = javaBin();
    const { error, output } = await run(java, ['-version']);
    if (error?.code === 'ENOENT') {
      throw new Error(`Java 17+ is needed to run the local Kafka broker, but "${java}" was not found. Install a JDK 17+ (or set JAVA_HOME), or point KAFKA_BROKERS at an existing cluster.`);
    }
    const m = /version "(\d+)(?:\.(\d+))?/.exec(output);
    const major = m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : NaN;
    if (!(major >= 17)) {
      throw new Error(`Java 17+ is needed to run the local Kafka broker; "${java} -version" says:\n${output.trim()}\nInstall a JDK 17+ (or set JAVA_HOME), or point KAFKA_BROKERS at an existing cluster.`);
    }
  })();
  // A failed check must not stick: the user may fix JAVA_HOME and retry in the same process.
  javaChecked.catch(() => (javaChecked = undefined));
  return javaChecked;
}

// A node process killed by a signal never emits 'exit', so the JVM would outlive it and keep the port.
// On Linux, setpriv makes the kernel send the JVM SIGTERM when its parent dies.
let deathSignalPrefix;
function parentDeathPrefix() {
  deathSignalPrefix ??= process.platform !== 'linux'
    ? Promise.resolve([])
    : run('setpriv', ['--version']).then(({ error }) => (error ? [] : ['setpriv', '--pdeathsig', 'TERM', '--']));
  return deathSignalPrefix;
}

function pomFingerprint() {
  const pom = fs.readFileSync(POM, 'utf8');
  const kafkaVersion = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  if (!kafkaVersion) throw new Error(`No <kafka.version> in ${POM}`);
  return { kafkaVersion, pomSha256: crypto.createHash('sha256').update(pom).digest('hex') };
}

async function readMarker(libsDir) {
  try {
    return JSON.parse(await fsp.readFile(path.join(libsDir, MARKER), 'utf8'));
  } catch {
    return null;
  }
}

/** Resolves the broker jars into <cacheDir>/libs once; later calls reuse them until the pom changes. */
async function ensureKafkaJars({ cacheDir = DEFAULT_CACHE_DIR, log = noop } = {}) {
  const libsDir = path.join(cacheDir, 'libs');
  const want = pomFingerprint();
  const isCurrent = (m) => m?.pomSha256 === want.pomSha256;
  if (isCurrent(await readMarker(libsDir))) return { libsDir, kafkaVersion: want.kafkaVersion };

  log(`Fetching Kafka ${want.kafkaVersion} jars from Maven Central (first run only)...`);
  const started = Date.now();
  await fsp.mkdir(cacheDir, { recursive: true });
  // Resolve into a private dir and rename, so a concurrent or interrupted run never sees half a libs dir.
  const tmpDir = await fsp.mkdtemp(path.join(cacheDir, 'libs.tmp-'));
  try {
    const { error, output } = await run('mvn', ['-q', '-B', '-Dstyle.color=never', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${tmpDir}`]);
    if (error?.code === 'ENOENT') {
      throw new Error('Maven ("mvn") is needed once to download the Kafka broker jars into .cache/kafka. Install Maven 3.6+, or point KAFKA_BROKERS at an existing cluster.');
    }
    if (error) throw new Error(`Resolving Kafka jars with Maven failed (${POM}):\n${tail(output)}`);
    await fsp.writeFile(path.join(tmpDir, MARKER), JSON.stringify(want, null, 2));
    if (isCurrent(await readMarker(libsDir))) return { libsDir, kafkaVersion: want.kafkaVersion };
    await fsp.rm(libsDir, { recursive: true, force: true });
    await fsp.rename(tmpDir, libsDir);
  } finally {
    await fsp.rm(tmpDir, { recursive: true, force: true });
  }
  log(`Kafka ${want.kafkaVersion} jars cached in ${libsDir} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  return { libsDir, kafkaVersion: want.kafkaVersion };
}

/** A port the OS considers free right now on loopback (the usual small race before it is bound applies). */
function getFreePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(false));
  });
}

function quietAdmin(brokers, timeoutMs) {
  return new Kafka({
    clientId: 'tocsin-local-probe',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
}

/** Resolves to the cluster description if a Kafka broker answers at `brokers`, else null. */
async function describeIfKafka(brokers, timeoutMs = 2000) {
  const admin = quietAdmin(brokers, timeoutMs);
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 ? cluster : null;
  } catch {
    return null;
  } finally {
    await admin.disconnect().catch(noop);
  }
}

// A fresh broker creates __consumer_offsets on first use, and until it is loaded group requests and
// producer ids fail with "coordinator not available / loading". kafkajs consumers and idempotent
// producers retry but log each attempt as an ERROR, and admin.fetchOffsets just fails. Using both
// once here makes "ready" hold for consumer groups and idempotent producers (not transactions).
async function warmUpCoordinators(brokers, deadline) {
  const kafka = new Kafka({ clientId: 'tocsin-local-warmup', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    await admin.connect();
    for (;;) {
      try {
        await admin.fetchOffsets({ groupId: 'tocsin-local-warmup' });
        break;
      } catch (e) {
        if (!e.retriable || Date.now() > deadline) throw e;
        await sleep(100);
      }
    }
    await producer.connect();
  } finally {
    await producer.disconnect().catch(noop);
    await admin.disconnect().catch(noop);
  }
}

// With `saslPort`, a second listener takes SCRAM-authenticated clients (tenants' producers)
// and the broker enforces ACLs. The PLAINTEXT and CONTROLLER listeners stay for the broker
// itself and for Tocsin's own apps, whose principal (ANONYMOUS on loopback) is a super user.
function saslProperties(saslPort) {
  if (!saslPort) return '';
  return `listener.name.sasl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS
allow.everyone.if.no.acl.found=false
`;
}

// With `client`, one more plaintext listener on client.port that the broker advertises as
// client.advertisedPort: clients that bootstrap there reach the broker through whatever
// listens on that port (a fault-injecting proxy), while the broker's own traffic does not.
function serverProperties({ port, controllerPort, logDirs, saslPort, client }) {
  const sasl = saslPort ? `,SASL://127.0.0.1:${saslPort}` : '';
  const listen = client ? `,CLIENT://127.0.0.1:${client.port}` : '';
  const advertised = client ? `,CLIENT://127.0.0.1:${client.advertisedPort}` : '';
  return `# Written by infra/local/lib/kafka.js for a throwaway single-node KRaft broker.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}${sasl}${listen}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}${sasl}${advertised}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${saslPort ? ',SASL:SASL_PLAINTEXT' : ''}${client ? ',CLIENT:PLAINTEXT' : ''}
inter.broker.listener.name=PLAINTEXT
${saslProperties(saslPort)}
controller.listener.names=CONTROLLER
log.dirs=${logDirs}
# Topics are created explicitly (ensureTopics); a typo must fail, not create a topic.
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
# One partition each instead of 50: creating and loading 50 made the first group join ~1.5s slower.
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join groups constantly; the default 3s delay would only slow every first join.
group.initial.rebalance.delay.ms=0
`;
}

function log4j2Properties(level) {
  return `rootLogger.level=${level}
rootLogger.appenderRef.out.ref=out
appender.out.type=Console
appender.out.name=out
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
`;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

// A pid alone can be reused by another program; a broker we started has its data dir on its command line.
async function isOurBroker(pid, dataDir) {
  if (!pid || !isAlive(pid)) return false;
  let cmdline;
  try {
    cmdline = (await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
  } catch {
    cmdline = (await run('ps', ['-o', 'args=', '-p', String(pid)])).output;
  }
  return cmdline.includes('kafka.Kafka') && cmdline.includes(dataDir);
}

async function listRuns(cacheDir) {
  let names = [];
  try {
    names = await fsp.readdir(cacheDir);
  } catch {
    return [];
  }
  const runs = [];
  for (const name of names.filter((n) => n.startsWith('run-'))) {
    const dataDir = path.join(cacheDir, name);
    let info = {};
    try {
      info = JSON.parse(await fsp.readFile(path.join(dataDir, 'instance.json'), 'utf8'));
    } catch {}
    runs.push({ dataDir, ...info, running: await isOurBroker(info.brokerPid, dataDir) });
  }
  return runs;
}

// Data dirs are normally removed by stop(); this collects those left by killed processes.
async function pruneDeadRuns(cacheDir) {
  for (const r of await listRuns(cacheDir)) {
    const ownerAlive = r.ownerPid && r.ownerPid !== process.pid && isAlive(r.ownerPid);
    // Without instance.json the dir may belong to a start that is just beginning in another process.
    const young = !r.ownerPid && Date.now() - (await fsp.stat(r.dataDir).catch(() => ({ mtimeMs: 0 }))).mtimeMs < 60_000;
    if (!r.running && !ownerAlive && !young) await fsp.rm(r.dataDir, { recursive: true, force: true });
  }
}

function exitsWithin(exited, ms) {
  return new Promise((resolve) => {
    // Cleared on exit: a pending timer would keep callers such as jest alive for the full timeout.
    const timer = setTimeout(() => resolve(false), ms);
    exited.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts a fresh single-node KRaft broker on 127.0.0.1:<port>; resolves once it answers Kafka requests.
 * Refuses to start if a broker already answers on the port: reuse it via KAFKA_BROKERS instead.
 * `sasl: { users: [{ name, password }] }` adds a SASL_PLAINTEXT listener (SCRAM-SHA-256 and
 * -512, those users' credentials written at format time) with ACLs enforced; the result's
 * `saslBrokers` is its address. `client: { port, advertisedPort }` adds the listener
 * serverProperties describes; the result's `clientBrokers` is its advertised address.
 * `down({ signal })` stops the broker and keeps its data (SIGTERM waits for a clean stop,
 * SIGKILL is a crash); `up()` starts it again on the same data and ports.
 */
async function startKafka({ cacheDir = DEFAULT_CACHE_DIR, port = 9092, log = noop, startTimeoutMs = START_TIMEOUT_MS, sasl, client } = {}) {
  const brokers = `127.0.0.1:${port}`;
  if (await canConnect(port)) {
    const existing = await describeIfKafka(brokers);
    if (existing) {
      throw new Error(`A Kafka broker already answers on ${brokers} (cluster ${existing.clusterId}). Use it with KAFKA_BROKERS=${brokers}, or stop it (npm run kafka:stop stops one started by this harness) and retry.`);
    }
    throw new Error(`Port ${port} on 127.0.0.1 is in use by something that is not Kafka. Free it, choose another port, or set KAFKA_BROKERS to an existing cluster.`);
  }
  await checkJava();
  const { libsDir, kafkaVersion } = await ensureKafkaJars({ cacheDir, log });
  await pruneDeadRuns(cacheDir);

  const dataDir = await fsp.mkdtemp(path.join(cacheDir, 'run-'));
  const controllerPort = await getFreePort();
  const saslPort = sasl ? await getFreePort() : undefined;
  const instance = { ownerPid: process.pid, port, controllerPort, saslPort, kafkaVersion };
  const instanceFile = path.join(dataDir, 'instance.json');
  await fsp.writeFile(instanceFile, JSON.stringify(instance, null, 2));
  const propsFile = path.join(dataDir, 'server.properties');
  const logFile = path.join(dataDir, 'broker.log');
  const log4jFile = path.join(dataDir, 'log4j2.properties');
  const formatLog4jFile = path.join(dataDir, 'log4j2-format.properties');
  await fsp.writeFile(propsFile, serverProperties({ port, controllerPort, saslPort, client, logDirs: path.join(dataDir, 'kraft') }));
  await fsp.writeFile(log4jFile, log4j2Properties('INFO'));
  await fsp.writeFile(formatLog4jFile, log4j2Properties('WARN'));

  const classpath = path.join(libsDir, '*');
  const java = javaBin();
  // Kafka cluster ids are 16 random bytes in unpadded base64url, as `kafka-storage random-uuid` prints;
  // like Kafka's own Uuid.randomUuid, never one starting with '-', which the storage tool's
  // argument parser would take for an option (1 start in 64 failed that way).
  let clusterId;
  do clusterId = crypto.randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-'));
  const format = await run(java, [`-Dlog4j2.configurationFile=${formatLog4jFile}`, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile,
    ...(sasl?.users ?? []).flatMap(({ name, password }) => ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${name},password=${password}]`]))]);
  if (format.error) throw new Error(`Formatting Kafka storage in ${dataDir} failed:\n${tail(format.output)}`);

  const prefix = await parentDeathPrefix();
  // If this process exits without calling stop(), the JVM must not outlive it.
  let child;
  const onExit = () => child?.kill('SIGTERM');
  process.once('exit', onExit);

  /** One JVM on the formatted data; resolves once it answers, or throws with its log's tail. */
  const launch = async () => {
    log(`Starting Kafka ${kafkaVersion} on ${brokers} (log: ${logFile})`);
    const [cmd, ...args] = [
      ...prefix,
      java, '-Xms128m', '-Xmx512m', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${log4jFile}`, '-cp', classpath, 'kafka.Kafka', propsFile,
    ];
    const out = fs.openSync(logFile, 'a');
    const jvm = spawn(cmd, args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const proc = { child: jvm, exitInfo: null };
    proc.exited = new Promise((resolve) => {
      jvm.once('exit', (code, signal) => resolve((proc.exitInfo = { code, signal })));
      // A failed spawn emits 'error' and never 'exit'.
      jvm.once('error', (error) => resolve((proc.exitInfo = { code: null, signal: null, error })));
    });
    child = jvm;
    await fsp.writeFile(instanceFile, JSON.stringify({ ...instance, brokerPid: jvm.pid }, null, 2));
    const started = Date.now();
    const deadline = started + startTimeoutMs;
    try {
      for (;;) {
        if (proc.exitInfo) {
          const { code, signal, error } = proc.exitInfo;
          throw new Error(`Kafka exited during startup (${error ? error.message : `code ${code}, signal ${signal}`}). Last lines of ${logFile}:\n${await tailFile(logFile)}`);
        }
        if (await describeIfKafka(brokers, 1000)) {
          await warmUpCoordinators(brokers, deadline);
          break;
        }
        if (Date.now() > deadline) {
          throw new Error(`Kafka did not answer on ${brokers} within ${startTimeoutMs / 1000}s. Last lines of ${logFile}:\n${await tailFile(logFile)}`);
        }
        await sleep(250);
      }
    } catch (e) {
      // Keep the data dir: its broker.log is what the error points at.
      jvm.kill('SIGKILL');
      await proc.exited;
      throw e;
    }
    log(`Kafka ready on ${brokers} after ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return proc;
  };

  /** Ends the running JVM; true when it stopped cleanly. */
  const halt = async (current, signal = 'SIGTERM') => {
    if (current.exitInfo) return true;
    current.child.kill(signal);
    if (signal === 'SIGKILL' || (await exitsWithin(current.exited, STOP_TIMEOUT_MS))) {
      await current.exited;
      return signal !== 'SIGKILL';
    }
    log(`Kafka did not stop within ${STOP_TIMEOUT_MS / 1000}s; killing it (data kept in ${dataDir})`);
    current.child.kill('SIGKILL');
    await current.exited;
    return false;
  };

  let current;
  try {
    current = await launch();
  } catch (e) {
    process.removeListener('exit', onExit);
    throw e;
  }
  let stopping;
  const stop = () => (stopping ??= (async () => {
    process.removeListener('exit', onExit);
    if (await halt(current)) await fsp.rm(dataDir, { recursive: true, force: true });
  })());
  const down = async ({ signal = 'SIGTERM' } = {}) => {
    log(`Stopping Kafka on ${brokers} with ${signal}`);
    await halt(current, signal);
  };
  const up = async () => {
    if (!current.exitInfo) return;
    current = await launch();
  };
  return {
    brokers,
    ...(saslPort ? { saslBrokers: `127.0.0.1:${saslPort}` } : {}),
    ...(client ? { clientBrokers: `127.0.0.1:${client.advertisedPort}` } : {}),
    stop,
    down,
    up,
    dataDir,
    logFile,
    get exited() {
      return current.exited;
    },
  };
}

/** Stops brokers that startKafka runs under cacheDir (all, or only the one on `port`); returns how many. */
async function stopRunningBrokers({ cacheDir = DEFAULT_CACHE_DIR, port, log = noop } = {}) {
  const running = (await listRuns(cacheDir)).filter((r) => r.running && (port === undefined || r.port === port));
  await Promise.all(running.map(async (r) => {
    log(`Stopping Kafka pid ${r.brokerPid} on 127.0.0.1:${r.port}`);
    const signal = (sig) => { try { process.kill(r.brokerPid, sig); } catch {} }; // it may exit meanwhile
    signal('SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isAlive(r.brokerPid) && Date.now() < deadline) await sleep(200);
    if (isAlive(r.brokerPid)) signal('SIGKILL');
  }));
  await pruneDeadRuns(cacheDir);
  return running.length;
}

/** Creates the topics that do not exist yet; existing ones are left as they are. Returns the names created. */
async function ensureTopics({ brokers, topics, log = noop }) {
  const admin = new Kafka({
    clientId: 'tocsin-local-topics',
    brokers: Array.isArray(brokers) ? brokers : brokers.split(',').map((b) => b.trim()),
    logLevel: logLevel.WARN,
  }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter(({ topic }) => !existing.has(topic));
    if (missing.length > 0) {
      // `false` means another process created them between listTopics and here: still fine.
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map(({ topic, numPartitions }) => ({ topic, numPartitions })),
      });
      for (const { topic, numPartitions } of missing) log(`Created topic ${topic} (${numPartitions ?? 'default'} partitions)`);
    }
    const present = topics.filter(({ topic }) => existing.has(topic));
    if (present.length > 0) {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: present.map((t) => t.topic) });
      for (const { name, partitions } of meta) {
        const want = present.find((t) => t.topic === name).numPartitions;
        if (want && partitions.length < want) {
          log(`Topic ${name} exists with ${partitions.length} partitions, fewer than the ${want} wanted; left unchanged`);
        }
      }
    }
    return missing.map(({ topic }) => topic);
  } finally {
    await admin.disconnect();
  }
}

module.exports = { ensureKafkaJars, startKafka, ensureTopics, stopRunningBrokers, getFreePort, DEFAULT_CACHE_DIR };
