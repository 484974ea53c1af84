import { describe, expect, it } from 'vitest';
import type { ApiConfig } from '../../../src/core/config/apis.ts';
import { apiTokenParameters, audienceParameters, resourcesToAuthorize } from '../../../src/core/protocol/flow-context.ts';
import { PRESETS } from '../../../src/core/presets/presets.ts';
import type { AuthConfig } from '../../../src/core/config/auth-config.ts';

const MAIN: ApiConfig = { name: 'main', baseUrl: 'https://api.example.com/', audience: 'urn:main' };
const FILES: ApiConfig = { name: 'files', baseUrl: 'https://files.example.com/', resource: 'https://files.example.com/', scope: 'files.read' };
const configWith = (apis: ApiConfig[]) => ({ audience: apis[0]?.audience, resource: apis[0]?.resource, apis }) as AuthConfig;

describe('a token per API, asked the way the provider wants it', () => {
  it('RFC 8707: every API\'s resource in the authorization request (§2.1), the first one\'s when the code is redeemed, one per refresh (§2.2)', () => {
    const config = configWith([MAIN, FILES]);
    expect(resourcesToAuthorize(config, PRESETS.generic)).toEqual(['urn:main', 'https://files.example.com/']);
    expect(audienceParameters(config, PRESETS.generic)).toEqual({ audience: 'urn:main', resource: 'urn:main' });
    expect(apiTokenParameters(FILES, PRESETS.generic)).toEqual({ resource: 'https://files.example.com/', scope: 'files.read' });
  });

  it('one API: the request is today\'s, unchanged', () => {
    const config = configWith([MAIN]);
    expect(resourcesToAuthorize(config, PRESETS.generic)).toEqual([]);
    expect(audienceParameters(config, PRESETS.generic)).toEqual({ audience: 'urn:main' });
  });

  it('Auth0 by audience, Entra by the API\'s scopes; neither names resources in the authorization request', () => {
    const config = configWith([MAIN, FILES]);
    expect(resourcesToAuthorize(config, PRESETS.auth0)).toEqual([]);
    expect(apiTokenParameters(FILES, PRESETS.auth0)).toEqual({ audience: 'https://files.example.com/', scope: 'files.read' });
    expect(apiTokenParameters(FILES, PRESETS.entra)).toEqual({ scope: 'files.read' });
  });
});
