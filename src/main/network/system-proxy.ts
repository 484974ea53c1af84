import type { Session } from 'electron';
import type { ProxyResolver } from '../../core/index.ts';

/**
 * The OS's proxy for each provider URL, from Chromium's network stack:
 * `session.resolveProxy` follows the system settings, PAC scripts and WPAD and
 * answers a PAC result (`"PROXY proxy.corp:8080; DIRECT"`), which the core's
 * transport follows in order. Proxy variables, when set, still win (the core
 * decides that), so a user can always override what the OS says.
 */
export function systemProxyResolver(session: Pick<Session, 'resolveProxy'>): ProxyResolver {
  return (url) => session.resolveProxy(url);
}
