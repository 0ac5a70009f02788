import { createServer } from 'node:net';

/** A loopback port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/**
 * `count` free ports in a row (a funnel of its own takes five from its gateway's), drawn from
 * 20,000-29,999, away from the fixed ones other tests and `npm start` take.
 */
export async function freeBasePort(count = 5): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + count * Math.floor(Math.random() * Math.floor(10_000 / count));
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`found no ${count} free ports in a row`);
}
