import { toErrorInfo, type AuthConfig } from '../../core/index.ts';
import { tokenBindingFor } from '../../core/doctor.ts';
import type { Check } from './check.ts';
import { EXIT } from '../exit-codes.ts';

/** Whether sign-ins will bind tokens (RFC 9449): what AUTH_DPOP asks for against what the provider's metadata (or its preset) offers. */
export function dpopCheck(config: Pick<AuthConfig, 'dpop' | 'issuer'>, metadata: Record<string, unknown>, presetOffersDpop = false): Check {
  const mode = config.dpop ?? 'auto';
  try {
    if (tokenBindingFor(config, metadata, presetOffersDpop) === 'dpop') {
      return { name: 'DPoP', outcome: 'pass', detail: `offered (ES256${Array.isArray(metadata.dpop_signing_alg_values_supported) ? '' : ', by the provider preset'}): sessions are bound to a key of this installation (AUTH_DPOP=${mode})` };
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
