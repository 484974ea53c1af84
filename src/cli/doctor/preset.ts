import type { AuthConfig } from '../../core/index.ts';
import { providerFacts } from '../../core/doctor.ts';
import type { Check } from './check.ts';

/**
 * What `doctor` says about the provider preset: which preset is in use and what
 * must be registered at that provider; whether a client secret is configured
 * and why it is no secret in a desktop app (RFC 8252 §8.5) — with the generic
 * preset a warning that recommends a public client; Entra's tenants.
 */
export function presetChecks(config: AuthConfig): Check[] {
  const { preset } = providerFacts(config);
  const checks: Check[] = [{ name: 'Provider preset', outcome: 'pass', detail: `${preset.title} (AUTH_PROVIDER=${preset.name}); register there: ${preset.register.join('; ')}` }];
  if (config.clientSecret !== undefined) {
    const notSecret = 'a secret inside a desktop app is not a secret: anyone with the app can read it (RFC 8252 §8.5)';
    checks.push(
      preset.secret === 'required'
        ? { name: 'Client secret', outcome: 'pass', detail: `configured, because ${preset.title} insists on it; ${notSecret}, and PKCE is what protects the sign-in` }
        : {
            name: 'Client secret',
            outcome: 'warn',
            detail: `configured, though ${preset.name === 'generic' ? 'a standard provider' : preset.title} does not need one; ${notSecret}`,
            fix: 'Register the app as a native/public client (token endpoint auth method "none") and remove AUTH_CLIENT_SECRET; Latchkey always uses PKCE.',
          },
    );
  }
  if (config.allowedTenants) {
    checks.push(
      config.allowedTenants.includes('*')
        ? { name: 'Tenants', outcome: 'warn', detail: 'users of any Microsoft Entra tenant may sign in (AUTH_ALLOWED_TENANTS=*)', fix: 'List the tenant ids allowed in AUTH_ALLOWED_TENANTS unless any tenant is meant.' }
        : { name: 'Tenants', outcome: 'pass', detail: `sign-ins only from ${config.allowedTenants.join(', ')}` },
    );
  }
  return checks;
}

