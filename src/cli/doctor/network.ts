import { toErrorInfo, type HttpClient } from '../../core/index.ts';
import { clockFacts, routeFacts, tlsFacts, type ClockFacts, type RouteFacts } from '../../core/doctor.ts';
import type { Check } from './check.ts';
import { EXIT, exitCodeFor } from '../exit-codes.ts';

/**
 * What lies between this computer and the issuer: the proxy requests take and
 * where it came from, the TLS certificate the issuer's host presents (and who
 * issued it — a company's TLS-inspection root shows here), and how far this
 * computer's clock is from the provider's `Date` header (ID token `exp`/`iat`
 * checks, OpenID Connect Core §3.1.3.7, fail on a clock that is off).
 */
export async function networkChecks(http: HttpClient, issuer: string, clock: () => number = Date.now, env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const discoveryUrl = new URL('.well-known/openid-configuration', issuer.endsWith('/') ? issuer : `${issuer}/`);
  const checks: Check[] = [];
  checks.push(await proxyCheck(http, discoveryUrl));
  checks.push(await tlsCheck(http, discoveryUrl, clock, env));
  checks.push(await clockCheck(http, discoveryUrl, clock));
  return checks;
}

async function proxyCheck(http: HttpClient, url: URL): Promise<Check> {
  let plan: RouteFacts;
  try {
    plan = await routeFacts(http, url);
  } catch (error) {
    return { name: 'Proxy', outcome: 'fail', detail: `the system's proxy for ${url.host} could not be found (${toErrorInfo(error).message})`, failsWith: EXIT.providerUnavailable };
  }
  const way = plan.ways.join(', else ') || 'none usable';
  const source =
    plan.source === 'env'
      ? plan.variable?.toLowerCase() === 'no_proxy'
        ? `${plan.variable} matches ${url.hostname}`
        : `from ${plan.variable}`
      : plan.source === 'system'
        ? (plan.note ?? "from this computer's proxy settings (OS, PAC or WPAD)")
        : (plan.note ?? 'no proxy set (HTTPS_PROXY, HTTP_PROXY)');
  const skipped = plan.skipped ? `; skipped what Latchkey cannot use: ${plan.skipped.join('; ')}` : '';
  return { name: 'Proxy', outcome: 'pass', detail: `${way} for ${url.host} — ${source}${skipped}` };
}

// Variables the command line (like development) lets widen the roots it trusts; an installed app ignores them.
const TRUST_VARIABLES = ['AUTH_CA_FILE', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR'];

async function tlsCheck(http: HttpClient, url: URL, clock: () => number, env: NodeJS.ProcessEnv): Promise<Check> {
  if (url.protocol !== 'https:') return { name: 'TLS', outcome: 'pass', detail: `not used: ${url.host} is on this machine (plain http)` };
  try {
    const report = await tlsFacts(http, url, clock);
    const widened = TRUST_VARIABLES.filter((name) => env[name]);
    const trustNote = widened.length > 0 ? ` (this command also trusts the roots ${widened.join(', ')} name${widened.length === 1 ? 's' : ''}; the installed app does not)` : '';
    const verifyNote = env.NODE_TLS_REJECT_UNAUTHORIZED === '0' ? ' (NODE_TLS_REJECT_UNAUTHORIZED=0 is ignored: Latchkey always verifies)' : '';
    if (report.trusted) return { name: 'TLS', outcome: 'pass', detail: `the certificate of ${url.host} is trusted; issued by ${report.issuer} to ${report.subject}${trustNote}${verifyNote}` };
    return {
      name: 'TLS',
      outcome: 'fail',
      detail: report.problem,
      fix: 'Set AUTH_CA_FILE to the PEM root certificate your IT department uses for TLS inspection, or install it in the OS trust store.',
      failsWith: EXIT.providerUnavailable,
    };
  } catch (error) {
    const info = toErrorInfo(error);
    return { name: 'TLS', outcome: 'fail', detail: `no TLS handshake with ${url.host}: ${info.message}`, failsWith: info.code === 'internal_error' ? EXIT.providerUnavailable : exitCodeFor(error) };
  }
}

async function clockCheck(http: HttpClient, url: URL, clock: () => number): Promise<Check> {
  let skew: ClockFacts | undefined;
  try {
    skew = await clockFacts(http, url, clock);
    if (skew === undefined) return { name: 'Clock', outcome: 'warn', detail: 'could not be compared: the provider sent no Date header', fix: "Make sure this computer's clock is set automatically." };
  } catch {
    // The Discovery check reports why.
    return { name: 'Clock', outcome: 'warn', detail: 'could not be compared: the provider did not answer (see Discovery)' };
  }
  if (skew.off) {
    return {
      name: 'Clock',
      outcome: 'warn',
      detail: `this computer's clock is ${skew.described} the provider's (its Date header); ID token checks fail when the clock is off`,
      fix: 'Set the date, time and time zone automatically (from the network), then try again.',
    };
  }
  return { name: 'Clock', outcome: 'pass', detail: `within ${Math.round(Math.abs(skew.skewMs) / 1000)} s of the provider's` };
}
