import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy a test controls, standing between a client and PostgreSQL (or
 * PgBouncer): it can freeze the connections it carries (the server seems to
 * stop answering, the sockets stay open), and point new connections at
 * another port (a failover).
 */
export interface TcpProxy {
  readonly port: number;
  /** Stops relaying bytes on every connection open now; new connections still flow. */
  freezeOpenConnections(): void;
  /** New connections go to `port` from now on; open ones are cut. */
  retarget(port: number): void;
  /** The server behind is unreachable: open connections are cut, new ones reset at once, until `restore`. */
  cut(): void;
  /** Connections flow again after `cut`. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let target = targetPort;
  let down = false;
  const pairs = new Set<[Socket, Socket]>();
  const frozen = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    if (down) {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target, targetHost);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    freezeOpenConnections() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
        frozen.add([client, upstream]);
      }
      pairs.clear();
    },
    retarget(port) {
      target = port;
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    cut() {
      down = true;
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    restore() {
      down = false;
    },
    async close() {
      for (const [client, upstream] of [...pairs, ...frozen]) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
