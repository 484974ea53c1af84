import type { Rectangle } from 'electron';

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
