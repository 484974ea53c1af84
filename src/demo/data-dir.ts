import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the demo provider keeps its keys, grants and sessions when
 * `DEMO_DATA_DIR` is not set: `<OS app-data>/Latchkey/demo-provider`.
 */
export function defaultDemoDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  return join(appDataDir(env, platform), 'Latchkey', 'demo-provider');
}

function appDataDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string {
  if (platform === 'win32') return env.APPDATA ?? join(homedir(), 'AppData', 'Roaming');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support');
  return env.XDG_CONFIG_HOME || join(homedir(), '.config');
}
