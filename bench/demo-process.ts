// The demo provider for `npm run bench`, in its own process so the bench's
// memory and CPU figures are the session's alone. Speaks over the fork IPC
// channel: it sends { issuer, apiUrl } once listening, answers 'stats' with the
// provider's counters and exits on 'close'.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo } from '../src/demo/index.ts';

const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-bench-demo-'));
const demo = await startDemo({
  idpPort: 0,
  apiPort: 0,
  dataDir,
  accessTokenTtl: Number(process.env.BENCH_ACCESS_TOKEN_TTL ?? 5),
  // `nonce`: the provider demands DPoP nonces (bench/dpop.ts measures the round trip a cold start costs).
  ...(process.env.BENCH_DPOP === 'nonce' ? { dpop: 'nonce' as const } : {}),
});

process.send!({ type: 'ready', issuer: demo.issuer, apiUrl: demo.apiUrl });
process.on('message', async (message: { type: string }) => {
  if (message.type === 'stats') {
    process.send!({ type: 'stats', stats: structuredClone(demo.stats) });
  } else if (message.type === 'close') {
    await demo.close();
    await rm(dataDir, { recursive: true, force: true });
    process.exit(0);
  }
});
