import { describe, expect, it } from 'vitest';
import { clampToDisplays } from '../../../src/main/window/window-bounds.ts';

describe('restoring window bounds', () => {
  const display = { x: 0, y: 0, width: 1920, height: 1080 };
  const second = { x: 1920, y: 0, width: 1280, height: 1024 };

  it('keeps bounds that are on a display', () => {
    expect(clampToDisplays({ x: 100, y: 100, width: 520, height: 640 }, [display, second])).toEqual({ x: 100, y: 100, width: 520, height: 640 });
    expect(clampToDisplays({ x: 2000, y: 50, width: 520, height: 640 }, [display, second])).toEqual({ x: 2000, y: 50, width: 520, height: 640 });
  });

  it('moves a window from a display that is gone back onto one', () => {
    expect(clampToDisplays({ x: 2000, y: 50, width: 520, height: 640 }, [display])).toEqual({ x: 1400, y: 50, width: 520, height: 640 });
    expect(clampToDisplays({ x: -5000, y: -5000, width: 3000, height: 3000 }, [display])).toEqual({ x: 0, y: 0, width: 1920, height: 1080 });
    expect(clampToDisplays({ x: 0, y: 0, width: 100, height: 100 }, [])).toBeUndefined();
  });
});
