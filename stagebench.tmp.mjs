import { connect } from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';
const [pattern, n, conc, pidArg] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5]];
const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
const interests = new Array(16).fill(1/16);
const adIds = Array.from({ length: 200 }, (_, i) => 1 + i * 37 % 10000);
const user = { userId: 'u00042', country: 'US', device: 'mobile', interests, known: true };
const payloads = {
  'adfunnel.auction.run.v1': () => ({ requestId: 'b', deadlineAt: Date.now() + 10000, surface: 'home_feed', device: 'mobile', slots: 3, adIds, predictions: { pCtr: adIds.map(() => 0.02), pCvr: adIds.map(() => 0.1) } }),
  'adfunnel.ranking.score.v1': () => ({ requestId: 'b', deadlineAt: Date.now() + 10000, user, surface: 'home_feed', adIds }),
  'adfunnel.retrieval.candidates.v1': () => ({ requestId: 'b', deadlineAt: Date.now() + 10000, user, surface: 'home_feed', limit: 200 }),
};
const cpu = () => { const f = readFileSync(`/proc/${pidArg}/stat`, 'utf8').split(' '); return (Number(f[13]) + Number(f[14])) / 100; };
let id = 0;
const one = async () => { const m = await nc.request(pattern, JSON.stringify({ pattern, data: payloads[pattern](), id: String(++id) }), { timeout: 5000 }); const r = m.json(); if (r.err) throw new Error(JSON.stringify(r.err)); return m.data.length; };
for (let i = 0; i < 100; i++) await one();
const c0 = cpu(); const t0 = performance.now(); let bytes = 0;
let left = n;
await Promise.all(Array.from({ length: conc }, async () => { while (left-- > 0) bytes += await one(); }));
const dt = performance.now() - t0; const dc = cpu() - c0;
console.log(`${pattern}: ${(dt / n).toFixed(3)} ms/req wall, server CPU ${(1000 * dc / n).toFixed(3)} ms/req, reply ${(bytes / n / 1024).toFixed(1)} KiB`);
await nc.close();
