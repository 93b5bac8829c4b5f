import { fork, type ChildProcess } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import { SanClient, type SessionStats } from '../src/client';
import type { SecurityMode } from '../src/protocols/san/login';
import { nodeFlags } from './gateway-process';
import { runWorkload, WORKLOADS, type WorkloadResult } from './workload';

/*
 * Our client library as a load generator in a process of its own, as fio is
 * for the peer: the SAN bench and the probe drive it over IPC.
 *
 * In the bench's own process the library shared a heap of 36 MB and more
 * (every bench's modules, NestJS for the in-process benches, the results).
 * V8 runs a full collection each time some 64 MB of ArrayBuffers were
 * allocated, and each datagram node:dgram receives is one: at 1 MiB
 * sequential reads that is 10-15 full collections a second, each marking
 * the whole heap. In a process of its own the library's heap is 6-10 MB:
 * 1 MiB sequential reads ran at 875-1,052 MB/s with 910-1,080 µs of client
 * CPU per MiB, against 590-785 MB/s and 1,230-1,450 µs in the bench's
 * process (probe rounds on this VM). An application using the library, like
 * strata-client, is such a process.
 */

/** What the child needs to log in and open the volume. */
export interface SanLoadConfig {
  gateway: string;
  host: string;
  /** The host's Ed25519 private key, PKCS#8 PEM. */
  key: string;
  security: SecurityMode;
  sessions: number;
  datagramSize: number;
  volume: string;
}

/** One run of WORKLOADS[workload]; with rampMillis, the child says when the measured part starts. */
interface RunRequest {
  workload: number;
  region: number;
  millis: number;
  seed: number;
  rampMillis: number;
}

type Request = { run: RunRequest } | { stats: true } | { close: true };

/** `cpu`: the share of one core the child used over the measured part. */
export type LoadResult = WorkloadResult & { cpu: number };

type Reply =
  | { ready: { datagramSize: number } }
  | { measuring: true }
  | { result: LoadResult }
  | { stats: SessionStats[] }
  | { closed: true }
  | { error: string };

const ENV = 'STRATA_SAN_LOAD';

/** The parent's handle on one load process: one client, one volume, one run at a time. */
export class SanLoad {
  private waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  private onMeasuring: (() => void) | undefined;
  private exited: Error | undefined;

  private constructor(
    private readonly child: ChildProcess,
    /** The datagram size the sessions negotiated. */
    readonly datagramSize: number,
  ) {}

  /**
   * Start a load process logged in as `config.host` with `config.volume` open.
   * Its node flags come from STRATA_BENCH_CLIENT_FLAGS (e.g. --cpu-prof), as
   * the gateway's come from STRATA_BENCH_NODE_FLAGS.
   */
  static async start(config: SanLoadConfig): Promise<SanLoad> {
    const child = fork(join(__dirname, 'san-load.js'), [], {
      env: { ...process.env, [ENV]: JSON.stringify(config) },
      execArgv: nodeFlags('STRATA_BENCH_CLIENT_FLAGS'),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<Reply>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Reply));
      child.once('exit', (code, signal) => reject(new Error(`SAN load process exited (${signal ?? code}) before it was ready`)));
    });
    child.removeAllListeners('message').removeAllListeners('exit');
    if (!('ready' in ready)) {
      child.kill();
      throw failure(ready);
    }
    const load = new SanLoad(child, ready.ready.datagramSize);
    child.on('message', (m) => load.receive(m as Reply));
    child.on('exit', (code, signal) => load.gone(new Error(`SAN load process exited (${signal ?? code})`)));
    return load;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Run WORKLOADS[workload]; `measuring` is called when a ramp ends (see runWorkload). */
  async run(workload: number, region: number, millis: number, seed: number, ramp?: { rampMillis: number; measuring?: () => void }): Promise<LoadResult> {
    this.onMeasuring = ramp?.measuring;
    const r = await this.request({ run: { workload, region, millis, seed, rampMillis: ramp?.rampMillis ?? 0 } });
    this.onMeasuring = undefined;
    if ('result' in r) return r.result;
    throw failure(r);
  }

  /** The client's per-session transport counters. */
  async stats(): Promise<SessionStats[]> {
    const r = await this.request({ stats: true });
    if ('stats' in r) return r.stats;
    throw failure(r);
  }

  /** Log out and let the process end; killed if it has not within 5 s. */
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.request({ close: true }).catch(() => undefined);
    await exited;
    clearTimeout(timer);
  }

  private request(req: Request): Promise<Reply> {
    if (this.exited) return Promise.reject(this.exited);
    if (this.waiting) return Promise.reject(new Error('SAN load process: one request at a time'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.child.send(req);
    });
  }

  private receive(m: Reply): void {
    if ('measuring' in m) return this.onMeasuring?.();
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve(m);
  }

  private gone(e: Error): void {
    this.exited = e;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(e);
  }
}

/** A reply that is not the one asked for: the child's error, or a protocol slip. */
function failure(r: Reply): Error {
  return new Error(`SAN load process: ${'error' in r ? r.error : 'unexpected reply'}`);
}

/** The child: log in, open the volume, then answer the parent's requests until told to close. */
async function child(): Promise<void> {
  const send = (r: Reply) => process.send!(r);
  const c = JSON.parse(process.env[ENV]!) as SanLoadConfig;
  const client = await SanClient.connect({
    gateways: [c.gateway],
    host: c.host,
    key: createPrivateKey(c.key),
    sessionsPerGateway: c.sessions,
    datagramSize: c.datagramSize,
    security: c.security,
  });
  const volume = await client.open(c.volume);
  const target = { read: (offset: number, buf: Buffer) => volume.readInto(offset, buf), write: (offset: number, buf: Buffer) => volume.write(offset, buf) };
  process.on('message', (m: Request) => {
    void (async (): Promise<Reply> => {
      if ('close' in m) {
        await client.close();
        return { closed: true };
      }
      if ('stats' in m) return { stats: client.stats() };
      const { workload, region, millis, seed, rampMillis } = m.run;
      let c0 = process.cpuUsage();
      const r = await runWorkload(target, WORKLOADS[workload], region, millis, seed, {
        rampMillis,
        measuring: () => {
          c0 = process.cpuUsage();
          if (rampMillis > 0) send({ measuring: true });
        },
      });
      const used = process.cpuUsage(c0);
      return { result: { ...r, cpu: (used.user + used.system) / 1e6 / r.seconds } };
    })()
      .catch((e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }) as Reply)
      .then((r) => {
        send(r);
        if ('closed' in r) process.disconnect();
      });
  });
  send({ ready: { datagramSize: client.negotiated().datagramSize } });
}

if (require.main === module) {
  child().catch((e: unknown) => {
    process.send?.({ error: e instanceof Error ? e.message : String(e) } satisfies Reply);
    process.exitCode = 1;
    process.disconnect?.();
  });
}
