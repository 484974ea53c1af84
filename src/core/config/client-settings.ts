import { nonEmptyString, parseResource } from './values.ts';
import { BUILD_CONFIG_FILE, type FileKey, type Setting } from './files.ts';

/**
 * The client's identity at the provider: its client id, and Auth0's `audience`
 * or RFC 8707's `resource`. With no issuer configured the demo provider is
 * used, and any of these set is a mistake worth naming; with an issuer, the
 * client id is required. Problems are added to `problems`, one line each.
 */
export function readClientSettings(
  pick: (key: FileKey) => Setting | undefined,
  problems: string[],
  { usesDemoProvider, issuerSetting, packaged }: { usesDemoProvider: boolean; issuerSetting: Setting | undefined; packaged: boolean },
): { clientId: string | undefined; audience: string | undefined; resource: string | undefined } {
  const clientIdSetting = pick('clientId');
  const audienceSetting = pick('audience');
  const resourceSetting = pick('resource');
  const clientId = clientIdSetting ? nonEmptyString(clientIdSetting, problems) : undefined;
  const audience = audienceSetting ? nonEmptyString(audienceSetting, problems) : undefined;
  const resource = resourceSetting ? parseResource(resourceSetting, problems) : undefined;

  if (usesDemoProvider) {
    for (const setting of [clientIdSetting, audienceSetting, resourceSetting, pick('clientSecret')]) {
      if (setting) {
        problems.push(
          `${setting.label}: is set but no issuer is configured, so the demo provider would be used with it. ` +
            'Set AUTH_ISSUER (or AUTH0_DOMAIN) for your provider, or remove this setting to use the demo provider.',
        );
      }
    }
  } else if (issuerSetting && clientIdSetting === undefined) {
    const where = packaged ? `"clientId" in ${BUILD_CONFIG_FILE}` : 'AUTH_CLIENT_ID (or "clientId" in the config file)';
    problems.push(
      `${packaged ? BUILD_CONFIG_FILE : 'AUTH_CLIENT_ID'}: missing client id; an issuer is configured (${issuerSetting.label}) but no client id. ` +
        `Set ${where} to the client id of the native/public application registered at your provider.`,
    );
  }
  return { clientId, audience, resource };
}
