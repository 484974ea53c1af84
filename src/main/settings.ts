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

const MIN_VISIBLE = 64;

/**
 * Saved bounds that still land on a display: a window saved on a monitor that
 * is gone would otherwise open off-screen. The window keeps its size (shrunk
 * to fit) and moves onto the display it overlaps most, or the first one.
 */
export function clampToDisplays(bounds: Rectangle, workAreas: readonly Rectangle[]): Rectangle | undefined {
  const [first] = workAreas;
  if (!first) return undefined;
  const area = workAreas.find((candidate) => overlap(bounds, candidate) >= MIN_VISIBLE * MIN_VISIBLE) ?? first;
  const width = Math.min(bounds.width, area.width);
  const height = Math.min(bounds.height, area.height);
  const x = Math.min(Math.max(bounds.x, area.x), area.x + area.width - width);
  const y = Math.min(Math.max(bounds.y, area.y), area.y + area.height - height);
  return { x, y, width, height };
}

function overlap(a: Rectangle, b: Rectangle): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}
