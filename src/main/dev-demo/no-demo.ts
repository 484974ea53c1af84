// What `npm run dist` builds have instead of src/main/dev-demo/demo.ts (see
// electron.vite.config.ts): a packaged app has no demo provider to start.
import type { startDevelopmentDemo as withDemo } from './demo.ts';

export const startDevelopmentDemo: typeof withDemo = async () => undefined;
