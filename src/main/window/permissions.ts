import type { Session } from 'electron';

/**
 * The app needs no browser permission (camera, notifications, clipboard,
 * geolocation, HID…), so every request and every check is denied
 * (Electron security checklist §5).
 */
export function denyAllPermissions(session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'>): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
