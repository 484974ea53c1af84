import Store from 'electron-store';
import type { Rectangle } from 'electron';

/** What the app remembers besides the core's profile cache. Never tokens. */
interface Settings {
  windowBounds?: Rectangle;
}

export interface WindowBoundsStore {
  load(): Rectangle | undefined;
  save(bounds: Rectangle): void;
}

/** Window bounds in `settings.json` in the app's data folder (electron-store). */
export function openWindowBoundsStore(dataDir: string): WindowBoundsStore {
  const store = new Store<Settings>({
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
