// A Kafka broker of the test's own, to stop and start for outage tests. The shared broker of
// infra/kafka/start on 9092 may serve other people's runs, so it is never the one stopped.
//
// It runs the jars that infra/kafka/fetch put under .local/kafka/<version>/libs, with its
// configuration and data in a temporary folder. infra/kafka/start cannot be reused for it: its state
// folder, pid file and configuration path are fixed, so a second instance would overwrite the first's.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repositoryRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const kafkaVersion = process.env.HMS_KAFKA_VERSION ?? '4.4.0';
const libsDir = join(repositoryRoot, '.local/kafka', kafkaVersion, 'libs');

export class SecondKafka {
  private broker: ChildProcess | undefined;

  private constructor(
    private readonly dir: string,
    readonly port: number,
    private readonly controllerPort: number,
  ) {}

  /** Host:port to give the event bus. */
  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  /** Formats storage for a new single-node cluster on two free loopback ports; does not start it. */
  static async create(): Promise<SecondKafka> {
    if (!existsSync(libsDir)) {
      throw new Error(`No Kafka jars in ${libsDir}; run infra/kafka/fetch first.`);
    }
    const dir = await mkdtemp(join(tmpdir(), 'hms-second-kafka-'));
    const kafka = new SecondKafka(dir, await freePort(), await freePort());
    await writeFile(
      kafka.propertiesPath,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `listeners=PLAINTEXT://127.0.0.1:${kafka.port},CONTROLLER://127.0.0.1:${kafka.controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${kafka.port}`,
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name=PLAINTEXT',
        'controller.listener.names=CONTROLLER',
        `controller.quorum.bootstrap.servers=127.0.0.1:${kafka.controllerPort}`,
        `log.dirs=${join(dir, 'data')}`,
        'num.partitions=1',
        'auto.create.topics.enable=true',
        'offsets.topic.replication.factor=1',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'share.coordinator.state.topic.replication.factor=1',
        'share.coordinator.state.topic.min.isr=1',
        'group.initial.rebalance.delay.ms=0',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'log4j2.properties'),
      [
        'status = warn',
        'appender.file.type = Console',
        'appender.file.name = out',
        'appender.file.layout.type = PatternLayout',
        'appender.file.layout.pattern = [%d] %p %m (%c)%n',
        'rootLogger.level = WARN',
        'rootLogger.appenderRef.out.ref = out',
        '',
      ].join('\n'),
    );
    // A Kafka cluster id is 16 random bytes in unpadded URL-safe base64.
    const clusterId = randomBytes(16).toString('base64url');
    await kafka.runJava([
      'kafka.tools.StorageTool',
      'format',
      '--cluster-id',
      clusterId,
      '--config',
      kafka.propertiesPath,
      '--standalone',
    ]);
    return kafka;
  }

  private get propertiesPath(): string {
    return join(this.dir, 'server.properties');
  }

  private javaArgs(main: string[]): string[] {
    return [
      '-Xms128m',
      '-Xmx384m',
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(this.dir, 'log4j2.properties')}`,
      '-cp',
      `${libsDir}/*`,
      ...main,
    ];
  }

  private runJava(main: string[]): Promise<void> {
    const log = openSync(join(this.dir, 'tool.log'), 'a');
    const child = spawn('java', this.javaArgs(main), { stdio: ['ignore', log, log] });
    return new Promise((resolvePromise, reject) => {
      child.once('error', reject);
      child.once('exit', async (code) => {
        closeSync(log);
        if (code === 0) resolvePromise();
        else
          reject(
            new Error(
              `${main[0]} exited with ${code}: ${await readFile(join(this.dir, 'tool.log'), 'utf8')}`,
            ),
          );
      });
    });
  }

  /** Starts the broker and waits until it accepts connections. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.broker) return;
    const log = openSync(join(this.dir, 'server.log'), 'a');
    const child = spawn('java', this.javaArgs(['kafka.Kafka', this.propertiesPath]), {
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.broker = child;
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + timeoutMs;
    while (!(await portOpen(this.port))) {
      if (exited) {
        this.broker = undefined;
        throw new Error(
          `The second Kafka exited during start: ${await readFile(join(this.dir, 'server.log'), 'utf8')}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(`The second Kafka did not listen on ${this.port} within ${timeoutMs} ms.`);
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 250));
    }
  }

  /** Stops the broker with SIGTERM (a controlled shutdown), and SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const child = this.broker;
    if (!child) return;
    this.broker = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolvePromise) => child.once('exit', () => resolvePromise()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Stops the broker and deletes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePromise(address.port);
        else reject(new Error('No port was assigned.'));
      });
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', () => resolvePromise(false));
  });
}
