import net from 'node:net';

/**
 * What the network between the apps and the broker does, per direction and chunk:
 * - `delayMs` ± `jitterMs` before each chunk is passed on (order kept per connection);
 * - `stallRate`: the share of chunks held a further `stallMs`, as a lost TCP segment is held
 *   until its retransmission arrives (TCP never loses bytes, it delays them);
 * - `resetRate`: the share of chunks on which the connection is cut instead (a dropped
 *   route, a restarted middlebox);
 * - `blackhole`: nothing passes at all, new connections included, until it is lifted;
 * - `holdReplies`: requests reach the broker but its answers are held until lifted, as when
 *   a route fails one way: the broker acts on a request whose client never hears back.
 */
export interface NetworkFaults {
  readonly delayMs?: number;
  readonly jitterMs?: number;
  readonly stallRate?: number;
  readonly stallMs?: number;
  readonly resetRate?: number;
  readonly blackhole?: boolean;
  readonly holdReplies?: boolean;
}

/**
 * A TCP proxy on loopback in front of a broker's client listener: the chaos world makes the
 * broker advertise this proxy's port, so every app connection to Kafka goes through it; a
 * test can route one client through it with kafkajs's socketFactory. It stands in for
 * `tc netem` on a veth pair: the kernel here has no netem qdisc, and the proxy needs no
 * root (docs/reliability.md).
 */
export class FaultProxy {
  private faults: NetworkFaults = {};
  private readonly sockets = new Set<net.Socket>();
  private readonly held: Array<() => void> = [];

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly target: number,
  ) {}

  static async start(target: number, port = 0): Promise<FaultProxy> {
    const holder: { proxy?: FaultProxy } = {};
    const server = net.createServer((client) => holder.proxy!.accept(client));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    holder.proxy = new FaultProxy(server, (server.address() as net.AddressInfo).port, target);
    return holder.proxy;
  }

  /** Replaces the faults in force; `{}` is a clean network again. */
  set(faults: NetworkFaults): void {
    this.faults = faults;
    if (!faults.blackhole && !faults.holdReplies) for (const release of this.held.splice(0)) release();
  }

  /** Cuts every open connection, as a broker restart or a dead route would. */
  resetAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.faults.blackhole) {
      // A black hole accepts nothing: the connection is held open and silent until lifted.
      client.pause();
      this.held.push(() => this.connect(client));
      this.track(client);
      return;
    }
    this.connect(client);
  }

  private connect(client: net.Socket): void {
    const upstream = net.connect({ host: '127.0.0.1', port: this.target });
    this.track(client);
    this.track(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    this.pipe(client, upstream, cut, false);
    this.pipe(upstream, client, cut, true);
    client.resume();
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** Passes `from`'s chunks to `to` in order, each after the delay the faults give it; `replies` is the broker's direction. */
  private pipe(from: net.Socket, to: net.Socket, cut: () => void, replies: boolean): void {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const f = this.faults;
      if (f.resetRate && Math.random() < f.resetRate) return cut();
      let wait = (f.delayMs ?? 0) + (f.jitterMs ? (Math.random() * 2 - 1) * f.jitterMs : 0);
      if (f.stallRate && Math.random() < f.stallRate) wait += f.stallMs ?? 200;
      chain = chain.then(async () => {
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (this.faults.blackhole || (replies && this.faults.holdReplies)) await new Promise<void>((resolve) => this.held.push(resolve));
        if (!to.destroyed) to.write(chunk);
      });
    });
  }
}
