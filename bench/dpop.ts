// The DPoP figures of `npm run bench` (RFC 9449): what one proof costs, and what the nonce round trip
// costs a process that starts cold against a provider that demands nonces. (refresh.dpop_ratio — a DPoP
// refresh against a bearer refresh through the session — is measured in run.ts's interleaved loop.)
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { connectProvider, createDpopKey, createDpopProof, type AuthConfig, type DpopKey, type HttpClient, type Logger, type Opener } from '../src/core/index.ts';

/** The median time of one proof (ES256 signature, `ath` over a JWT-sized token), over `rounds` proofs. */
export async function measureProofCost(rounds: number, median: (values: number[]) => number): Promise<number> {
  const key = await createDpopKey();
  const accessToken = 'x'.repeat(900);
  const times: number[] = [];
  for (let i = 0; i < rounds + 50; i += 1) {
    const started = performance.now();
    await createDpopProof(key, { method: 'GET', url: 'https://api.example.com/me', accessToken });
    if (i >= 50) times.push(performance.now() - started);
  }
  return median(times);
}

/** A second demo provider, in its own process, that demands a DPoP nonce in every proof. */
export async function startNonceDemo(): Promise<{ issuer: string; close(): Promise<void> }> {
  const child = fork(new URL('./demo-process.ts', import.meta.url), { env: { ...process.env, BENCH_DPOP: 'nonce', BENCH_ACCESS_TOKEN_TTL: '300' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<{ issuer: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the nonce demo exited (${code})`)));
    child.on('message', (message: { type: string; issuer?: string }) => {
      if (message.type === 'ready' && message.issuer) resolve({ issuer: message.issuer });
    });
  });
  return {
    issuer: ready.issuer,
    close: async () => {
      child.send({ type: 'close' });
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/**
 * The nonce round trip after a cold start: a refresh by a provider client that has no nonce yet (a new
 * process — the provider answers `use_dpop_nonce`, openid-client sends the request again with it) against
 * the next refresh by the same client (the nonce remembered). Discovery is not timed.
 */
export async function measureNonceRoundTrip(options: {
  config: AuthConfig;
  http: HttpClient;
  logger: Logger;
  opener: Opener;
  rounds: number;
  median: (values: number[]) => number;
}): Promise<{ cold_ms: number; warm_ms: number; round_trip_ms: number }> {
  const { config, http, logger } = options;
  const key: DpopKey = await createDpopKey();
  const first = await connectProvider(config, { http, logger });
  let refreshToken = (await first.signIn({ opener: options.opener, timeoutMs: 60_000, dpop: key })).refreshToken;
  if (!refreshToken) throw new Error('the nonce demo issued no refresh token');
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < options.rounds + 2; i += 1) {
    const client = await connectProvider(config, { http, logger });
    for (const times of [cold, warm]) {
      const started = performance.now();
      const result = await client.refresh(refreshToken, { dpop: key });
      const elapsed = performance.now() - started;
      refreshToken = result.refreshToken ?? refreshToken;
      if (i >= 2) times.push(elapsed);
    }
  }
  const round2 = (n: number) => Math.round(n * 100) / 100;
  return { cold_ms: round2(options.median(cold)), warm_ms: round2(options.median(warm)), round_trip_ms: round2(options.median(cold) - options.median(warm)) };
}
