// `npm run idp`: the demo provider and API on 127.0.0.1, until Ctrl+C.
import { createConsoleLogger } from './console-logger.ts';
import { DEFAULT_API_PORT, DEFAULT_IDP_PORT, DemoPortInUseError, defaultDemoDataDir, startDemo } from './index.ts';

const env = process.env;

function port(name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`${name} must be a port number (0-65535), got "${raw}".`);
    process.exit(1);
  }
  return value;
}

function seconds(name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`${name} must be a whole number of seconds greater than 0, got "${raw}".`);
    process.exit(1);
  }
  return value;
}

function accessTokenFormat(): 'jwt' | 'opaque' {
  const raw = env.DEMO_ACCESS_TOKEN_FORMAT;
  if (raw === undefined || raw === '' || raw === 'jwt') return 'jwt';
  if (raw === 'opaque') return 'opaque';
  console.error(`DEMO_ACCESS_TOKEN_FORMAT must be jwt or opaque, got "${raw}".`);
  process.exit(1);
}

function dpop(): 'on' | 'nonce' | 'off' {
  const raw = env.DEMO_DPOP;
  if (raw === undefined || raw === '' || raw === 'on') return 'on';
  if (raw === 'nonce' || raw === 'off') return raw;
  console.error(`DEMO_DPOP must be on, nonce or off, got "${raw}".`);
  process.exit(1);
}

const options = {
  idpPort: port('DEMO_IDP_PORT', DEFAULT_IDP_PORT),
  apiPort: port('DEMO_API_PORT', DEFAULT_API_PORT),
  accessTokenTtl: seconds('DEMO_ACCESS_TOKEN_TTL', 60),
  refreshTokenTtl: seconds('DEMO_REFRESH_TOKEN_TTL', 14 * 24 * 60 * 60),
  accessTokenFormat: accessTokenFormat(),
  dpop: dpop(),
  dataDir: env.DEMO_DATA_DIR || defaultDemoDataDir(),
  logger: createConsoleLogger(env.LATCHKEY_LOG_LEVEL),
};

try {
  const demo = await startDemo(options);
  console.log(`issuer: ${demo.issuer}`);
  console.log(`api: ${demo.apiUrl}`);
  console.log(`sign in with a code: ${demo.issuer}/device`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    demo.close().then(() => process.exit(0), (error: unknown) => {
      console.error(`Could not stop cleanly: ${String(error)}`);
      process.exit(1);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (error) {
  if (error instanceof DemoPortInUseError) {
    console.error(`${error.message} Set ${error.service === 'api' ? 'DEMO_API_PORT' : 'DEMO_IDP_PORT'} to use another port.`);
  } else {
    // A file-system error here means the data folder cannot hold the provider's keys and grants.
    const fix = typeof (error as NodeJS.ErrnoException).path === 'string' ? `. Set DEMO_DATA_DIR to a folder you can write to (now ${options.dataDir}).` : '';
    console.error(`The demo provider could not start: ${error instanceof Error ? error.message : String(error)}${fix}`);
  }
  process.exit(1);
}
