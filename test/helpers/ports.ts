import net from 'node:net';

/**
 * A loopback TCP port that was free a moment ago: for servers that must be told their port
 * up front (PostgreSQL, the dev server), and for "nothing listens here" tests.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}
