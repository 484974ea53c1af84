import type { MenuItemConstructorOptions } from 'electron';

/**
 * The application menu: the platform's usual menus (by role), and Help →
 * Open Logs Folder, so a user asked for logs can find them without knowing
 * where each OS keeps them.
 */
export function appMenuTemplate(deps: { platform: NodeJS.Platform; openLogsFolder: () => void }): MenuItemConstructorOptions[] {
  const help: MenuItemConstructorOptions = { role: 'help', submenu: [{ id: 'open-logs-folder', label: 'Open Logs Folder', click: () => deps.openLogsFolder() }] };
  const common: MenuItemConstructorOptions[] = [{ role: 'editMenu' }, { role: 'viewMenu' }, { role: 'windowMenu' }, help];
  return deps.platform === 'darwin' ? [{ role: 'appMenu' }, { role: 'fileMenu' }, ...common] : [{ role: 'fileMenu' }, ...common];
}
