// What the preload puts on the page's `window` (src/preload/index.ts), typed from the IPC contract.
import type { AppApi, AuthApi } from '../shared/ipc.ts';

declare global {
  interface Window {
    auth: AuthApi;
    app: AppApi;
  }
}
