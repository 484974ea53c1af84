import { chooseTokenBinding, toErrorInfo, type AuthConfig } from '../core/index.ts';
import type { Check } from './doctor-check.ts';
import { EXIT } from './exit-codes.ts';

/** Whether sign-ins will bind tokens (RFC 9449): what AUTH_DPOP asks for against what the provider's metadata offers. */
export function dpopCheck(config: Pick<AuthConfig, 'dpop' | 'issuer'>, metadata: Record<string, unknown>): Check {
  const mode = config.dpop ?? 'auto';
  try {
    if (chooseTokenBinding(mode, metadata, config.issuer) === 'dpop') {
      return { name: 'DPoP', outcome: 'pass', detail: `offered (ES256): sessions are bound to a key of this installation (AUTH_DPOP=${mode})` };
    }
    return {
      name: 'DPoP',
      outcome: 'pass',
      detail: mode === 'off' ? 'off (AUTH_DPOP=off): bearer tokens' : 'not offered by the provider (no ES256 in dpop_signing_alg_values_supported): bearer tokens, as before',
    };
  } catch (error) {
    return { name: 'DPoP', outcome: 'fail', detail: toErrorInfo(error).message, fix: 'Enable DPoP for this application at the provider, or set AUTH_DPOP=auto.', failsWith: EXIT.usage };
  }
}
