import Store from 'electron-store';
import type { Rectangle } from 'electron';

/** What the app remembers about its window besides the core's profile cache. Never tokens. */
interface StoredWindow {
  windowBounds?: Rectangle;
}

export interface WindowBoundsStore {
  load(): Rectangle | undefined;
  save(bounds: Rectangle): void;
}

/**
 * Window bounds in the app's data folder (electron-store). The file keeps the
 * name earlier versions gave it, `settings.json`, so a saved window size survives
 * the update; "settings" in the code means the provider configuration only.
 */
export function openWindowBoundsStore(dataDir: string): WindowBoundsStore {
  const store = new Store<StoredWindow>({
    cwd: dataDir,
    name: 'settings',
    clearInvalidConfig: true,
    schema: {
      windowBounds: {
        type: 'object',
        properties: { x: { type: 'integer' }, y: { type: 'integer' }, width: { type: 'integer' }, height: { type: 'integer' } },
        required: ['x', 'y', 'width', 'height'],
      },
    },
  });
  return {
    load: () => store.get('windowBounds'),
    save: (bounds) => store.set('windowBounds', bounds),
  };
}
