// The slice of oidc-provider v9 (which ships no types) that src/demo uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AdapterPayload = Record<string, unknown> & {
    grantId?: string;
    uid?: string;
    userCode?: string;
    consumed?: number;
  };

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export interface OidcContext {
    route?: string;
    params?: Record<string, unknown>;
    client?: { clientId: string };
    entities: Record<string, unknown>;
  }

  /** The Koa context oidc-provider hands to middleware and helpers. */
  export interface KoaContext {
    req: IncomingMessage;
    res: ServerResponse;
    method: string;
    path: string;
    querystring: string;
    /** "https" when the request came over TLS (Koa's ctx.protocol). */
    protocol: string;
    status: number;
    body: unknown;
    type: string;
    respond?: boolean;
    oidc?: OidcContext;
    set(field: string, value: string): void;
    get(field: string): string;
    redirect(url: string): void;
  }

  export type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

  export interface InteractionDetails {
    uid: string;
    prompt: {
      name: string;
      reasons: string[];
      details: {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
    };
    params: Record<string, string | undefined>;
    session?: { accountId?: string };
    grantId?: string;
    lastSubmission?: Record<string, unknown>;
  }

  export interface InteractionResult {
    login?: { accountId: string; remember?: boolean; acr?: string; amr?: string[] };
    consent?: { grantId?: string };
    error?: string;
    error_description?: string;
  }

  export interface GrantInstance {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface GrantClass {
    new (properties: { accountId: string; clientId: string }): GrantInstance;
    find(id: string): Promise<GrantInstance | undefined>;
  }

  export interface ClientMetadata {
    client_id: string;
    application_type?: 'native' | 'web';
    token_endpoint_auth_method?: string;
    redirect_uris: string[];
    post_logout_redirect_uris?: string[];
    grant_types?: string[];
    response_types?: string[];
    [key: string]: unknown;
  }

  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: 'jwt' | 'opaque';
    jwt?: { sign?: { alg: string } };
  }

  export interface Configuration {
    adapter?: (name: string) => Adapter;
    clients?: ClientMetadata[];
    jwks?: { keys: Record<string, unknown>[] };
    cookies?: { keys?: string[]; long?: Record<string, unknown>; short?: Record<string, unknown> };
    findAccount?: (ctx: KoaContext, sub: string) => Promise<Account | undefined>;
    claims?: Record<string, string[]>;
    scopes?: string[];
    conformIdTokenClaims?: boolean;
    clockTolerance?: number;
    extraParams?: string[];
    acrValues?: string[];
    extraTokenClaims?: (ctx: KoaContext, token: { kind: string }) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;
    pkce?: { required?: () => boolean };
    responseTypes?: string[];
    rotateRefreshToken?: boolean | ((ctx: KoaContext) => boolean | Promise<boolean>);
    issueRefreshToken?: (ctx: KoaContext, client: { clientId: string; grantTypeAllowed(type: string): boolean }, code: { scopes: Set<string> }) => boolean | Promise<boolean>;
    ttl?: Record<string, number | ((...args: never[]) => number)>;
    interactions?: { url?: (ctx: KoaContext, interaction: { uid: string }) => string };
    features?: Record<string, Record<string, unknown>>;
    renderError?: (ctx: KoaContext, out: Record<string, unknown>, error: Error) => void | Promise<void>;
    [key: string]: unknown;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    readonly Grant: GrantClass;
    proxy: boolean;
    use(middleware: Middleware): void;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: never[]) => void): this;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionResult(req: IncomingMessage, res: ServerResponse, result: InteractionResult, options?: { mergeWithLastSubmission?: boolean }): Promise<string>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: InteractionResult, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  }

  export const errors: Record<string, new (...args: never[]) => Error>;
  export default Provider;
}
