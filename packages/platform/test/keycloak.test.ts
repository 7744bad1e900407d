import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authenticator } from '../src/auth/jwt.js';
import { createKeycloakAuthenticator } from '../src/auth/keycloak.js';
import { AuthenticationError } from '../src/auth/principal.js';
import { InfrastructureEnv, parseEnv } from '../src/env.js';
import { realInfraEnv, uniqueName, useRealInfra } from '../src/testing/infra.js';

// keycloak/realm-export.json is checked statically in both modes. Its tokens are then checked with the
// verifier the services use (createKeycloakAuthenticator): DIVOC_INFRA=real gets them from the Keycloak
// that scripts/infra/up runs (realm imported from that file); the embedded set from a stand-in that serves
// a JWKS over HTTP and mints Keycloak-shaped tokens from the same file (users, groups, secrets, lifespans).

// ---------------------------------------------------------------------------------------------------
// The realm file (only the parts these tests read).

interface Mapper {
  name: string;
  protocolMapper: string;
  config: Record<string, string>;
}
interface ClientScope {
  name: string;
  protocolMappers?: Mapper[];
}
interface Client {
  clientId: string;
  name?: string;
  description?: string;
  enabled?: boolean;
  publicClient?: boolean;
  bearerOnly?: boolean;
  secret?: string;
  standardFlowEnabled?: boolean;
  implicitFlowEnabled?: boolean;
  directAccessGrantsEnabled?: boolean;
  serviceAccountsEnabled?: boolean;
  redirectUris?: string[];
  webOrigins?: string[];
  attributes?: Record<string, string>;
  defaultClientScopes?: string[];
}
interface User {
  username: string;
  firstName?: string;
  serviceAccountClientId?: string;
  attributes?: Record<string, string[]>;
  credentials?: { type: string; value: string; temporary?: boolean }[];
  clientRoles?: Record<string, string[]>;
  groups?: string[];
}
interface Group {
  name: string;
  path: string;
  clientRoles?: Record<string, string[]>;
}
interface Realm {
  realm: string;
  enabled: boolean;
  sslRequired: string;
  accessTokenLifespan: number;
  ssoSessionIdleTimeout: number;
  ssoSessionMaxLifespan: number;
  bruteForceProtected: boolean;
  failureFactor: number;
  passwordPolicy: string;
  roles: { client: Record<string, { name: string }[]> };
  groups: Group[];
  users: User[];
  clients: Client[];
  clientScopes: ClientScope[];
  defaultDefaultClientScopes: string[];
  components: Record<string, { providerId: string; config: Record<string, string[]> }[]>;
}

const realm = JSON.parse(
  readFileSync(new URL('../../../keycloak/realm-export.json', import.meta.url), 'utf8'),
) as Realm;

const client = (clientId: string): Client => {
  const found = realm.clients.find((candidate) => candidate.clientId === clientId);
  if (found === undefined) throw new Error(`client ${clientId} is not in the realm file`);
  return found;
};
const user = (username: string): User => {
  const found = realm.users.find((candidate) => candidate.username === username);
  if (found === undefined) throw new Error(`user ${username} is not in the realm file`);
  return found;
};
const passwordOf = (username: string): string => {
  const credential = user(username).credentials?.find((candidate) => candidate.type === 'password');
  if (credential === undefined) throw new Error(`user ${username} has no password in the realm file`);
  return credential.value;
};
const scope = (name: string): ClientScope => {
  const found = realm.clientScopes.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`client scope ${name} is not in the realm file`);
  return found;
};
/** Client roles a user holds directly and through its groups, as `client → roles`. */
const rolesOf = (username: string): Map<string, Set<string>> => {
  const account = user(username);
  const roles = new Map<string, Set<string>>();
  const grants = [account.clientRoles ?? {}];
  for (const path of account.groups ?? []) {
    const group = realm.groups.find((candidate) => candidate.path === path);
    if (group === undefined) throw new Error(`user ${username} is in an unknown group ${path}`);
    grants.push(group.clientRoles ?? {});
  }
  for (const grant of grants) {
    for (const [clientId, names] of Object.entries(grant)) {
      const set = roles.get(clientId) ?? new Set<string>();
      for (const name of names) set.add(name);
      roles.set(clientId, set);
    }
  }
  return roles;
};

/** The services' settings with no KEYCLOAK_* variable but the URL: the defaults must fit the realm file. */
const env = parseEnv(InfrastructureEnv, { KEYCLOAK_URL: realInfraEnv().KEYCLOAK_URL });
const DIVOC_ROLES = ['facility-staff', 'facility-admin', 'facility-print-staff', 'api', 'recipient', 'admin'];
const PORTALS = ['facility-portal', 'citizen-portal', 'verification-app'];
const TOKEN_CLIENTS = ['admin-api', ...PORTALS];
const ADMIN_API_SECRET = client('admin-api').secret as string;

// ---------------------------------------------------------------------------------------------------
// Static checks of keycloak/realm-export.json (both modes).

describe('keycloak/realm-export.json', () => {
  it('is the realm the services expect, with their default roles client and allowed clients', () => {
    expect(realm.realm).toBe(env.KEYCLOAK_REALM);
    expect(realm.enabled).toBe(true);
    expect(client(env.KEYCLOAK_ROLES_CLIENT).clientId).toBe('divoc');
    expect([...env.KEYCLOAK_ALLOWED_CLIENTS].sort()).toEqual([...TOKEN_CLIENTS].sort());
    for (const clientId of env.KEYCLOAK_ALLOWED_CLIENTS) {
      expect(client(clientId).enabled, clientId).toBe(true);
      expect(client(clientId).bearerOnly ?? false, clientId).toBe(false);
    }
    // Keycloak stores names and descriptions in VARCHAR(255) columns: a longer one fails the import.
    for (const { clientId, name, description } of realm.clients) {
      expect((name ?? '').length, `${clientId} name`).toBeLessThanOrEqual(255);
      expect((description ?? '').length, `${clientId} description`).toBeLessThanOrEqual(255);
    }
  });

  it('keeps the roles of DESIGN §9 on the one bearer-only client "divoc", which nobody can log in to', () => {
    const divoc = client('divoc');
    expect(divoc.bearerOnly).toBe(true);
    expect(divoc.publicClient).toBe(false);
    expect(divoc.standardFlowEnabled || divoc.directAccessGrantsEnabled || divoc.serviceAccountsEnabled).toBe(false);
    expect((realm.roles.client.divoc ?? []).map((role) => role.name).sort()).toEqual([...DIVOC_ROLES].sort());
    // The same names on any other client exist only for the "role of the wrong client" test.
    for (const [clientId, roles] of Object.entries(realm.roles.client)) {
      if (clientId === 'divoc') continue;
      expect(client(clientId).description, clientId).toMatch(/TEST-ONLY/);
      expect(client(clientId).bearerOnly, clientId).toBe(true);
      expect(roles.length, clientId).toBeGreaterThan(0);
    }
  });

  it('issues access tokens of minutes and keeps sessions short, with no client overriding that', () => {
    expect(realm.accessTokenLifespan).toBeGreaterThan(0);
    expect(realm.accessTokenLifespan).toBeLessThanOrEqual(300);
    expect(realm.ssoSessionIdleTimeout).toBeLessThanOrEqual(3600);
    expect(realm.ssoSessionMaxLifespan).toBeLessThanOrEqual(12 * 3600);
    for (const { clientId, attributes = {} } of realm.clients) {
      const lifespan = attributes['access.token.lifespan'];
      if (lifespan !== undefined) expect(Number(lifespan), clientId).toBeLessThanOrEqual(300);
    }
  });

  it('locks out password guessing, demands strong passwords and TLS for non-local clients', () => {
    expect(realm.bruteForceProtected).toBe(true);
    expect(realm.failureFactor).toBeLessThanOrEqual(10);
    const minimum = /(?:^|\s)length\((\d+)\)/.exec(realm.passwordPolicy)?.[1];
    expect(Number(minimum)).toBeGreaterThanOrEqual(12);
    for (const rule of ['upperCase', 'lowerCase', 'digits', 'specialChars', 'notUsername', 'passwordHistory']) {
      expect(realm.passwordPolicy).toContain(`${rule}(`);
    }
    expect(realm.sslRequired).toBe('external');
  });

  it('gives the portals exact redirect URIs, PKCE S256, no implicit flow, and password logins only to the citizen portal', () => {
    for (const { clientId, redirectUris = [], webOrigins = [], attributes = {} } of realm.clients) {
      for (const uri of [
        ...redirectUris,
        ...webOrigins,
        ...(attributes['post.logout.redirect.uris'] ?? '').split('##'),
      ]) {
        expect(uri, clientId).not.toContain('*');
        expect(uri, clientId).not.toBe('+');
      }
    }
    for (const clientId of PORTALS) {
      const portal = client(clientId);
      expect(portal.publicClient, clientId).toBe(true);
      expect(portal.standardFlowEnabled, clientId).toBe(true);
      expect(portal.implicitFlowEnabled, clientId).toBe(false);
      expect(portal.attributes?.['pkce.code.challenge.method'], clientId).toBe('S256');
      expect(portal.redirectUris?.length, clientId).toBeGreaterThan(0);
      for (const uri of portal.redirectUris ?? []) expect(new URL(uri).pathname, clientId).toMatch(/\/callback$/);
    }
    const withPasswords = realm.clients.filter((candidate) => candidate.directAccessGrantsEnabled);
    expect(withPasswords.map((candidate) => candidate.clientId)).toEqual(['citizen-portal']);
    expect(client('citizen-portal').description).toMatch(/turn them off in production/);
  });

  it('has a confidential admin-api whose service account holds facility-staff and api, with a TEST-ONLY secret', () => {
    const adminApi = client('admin-api');
    expect(adminApi.publicClient).toBe(false);
    expect(adminApi.serviceAccountsEnabled).toBe(true);
    expect(adminApi.standardFlowEnabled || adminApi.directAccessGrantsEnabled || adminApi.implicitFlowEnabled).toBe(
      false,
    );
    const serviceAccount = realm.users.find((candidate) => candidate.serviceAccountClientId === 'admin-api');
    expect(serviceAccount?.username).toBe('service-account-admin-api');
    expect([...(rolesOf('service-account-admin-api').get('divoc') ?? [])].sort()).toEqual(['api', 'facility-staff']);
    for (const { clientId, secret } of realm.clients) {
      if (secret !== undefined) expect(secret, clientId).toMatch(/^test-only-.*do-not-use-in-production$/);
    }
  });

  it('marks every user with a password as TEST-ONLY, and maps the groups to the divoc roles', () => {
    const people = realm.users.filter((candidate) => candidate.serviceAccountClientId === undefined);
    expect(people.length).toBeGreaterThan(0);
    for (const person of people) {
      expect(person.username).toMatch(/^test-/);
      expect(person.firstName).toBe('TEST-ONLY');
      for (const credential of person.credentials ?? []) expect(credential.value).toMatch(/^Test-Only-/);
    }
    const groupRoles = Object.fromEntries(realm.groups.map((group) => [group.name, group.clientRoles?.divoc]));
    expect(groupRoles).toEqual({
      'facility staff': ['facility-staff'],
      'facility admins': ['facility-admin'],
      'print staff': ['facility-print-staff'],
      recipients: ['recipient'],
    });
    expect([...(rolesOf('test-staff').get('divoc') ?? [])]).toEqual(['facility-staff']);
    expect([...(rolesOf('test-print').get('divoc') ?? [])]).toEqual(['facility-print-staff']);
    for (const mobile of ['9000012345', '9111111111']) {
      const citizen = `test-citizen-${mobile}`;
      expect([...(rolesOf(citizen).get('divoc') ?? [])]).toEqual(['recipient']);
      expect(user(citizen).attributes?.mobile_number).toEqual([mobile]);
    }
    const other = rolesOf('test-other-client-role');
    expect(other.get('divoc')).toBeUndefined();
    expect([...(other.get('other-app') ?? [])]).toEqual(['facility-staff']);
  });

  it('maps mobile_number into the access token through a default scope of every client, and only admins may change it', () => {
    const mobile = scope('mobile_number').protocolMappers?.find(
      (mapper) => mapper.config['claim.name'] === 'mobile_number',
    );
    expect(mobile?.protocolMapper).toBe('oidc-usermodel-attribute-mapper');
    expect(mobile?.config['user.attribute']).toBe('mobile_number');
    expect(mobile?.config['access.token.claim']).toBe('true');
    expect(realm.defaultDefaultClientScopes).toContain('mobile_number');
    for (const { clientId, defaultClientScopes } of realm.clients)
      expect(defaultClientScopes, clientId).toContain('mobile_number');
    const [profile] = realm.components['org.keycloak.userprofile.UserProfileProvider'] ?? [];
    const config = JSON.parse(profile?.config['kc.user.profile.config']?.[0] ?? '{}') as {
      attributes: { name: string; permissions: { edit: string[] } }[];
    };
    expect(config.attributes.find((attribute) => attribute.name === 'mobile_number')?.permissions.edit).toEqual([
      'admin',
    ]);
  });

  it('puts divoc into the audience of portal and admin-api tokens, and keeps the claims the verifier needs', () => {
    const audience = scope('divoc-audience').protocolMappers?.[0];
    expect(audience?.protocolMapper).toBe('oidc-audience-mapper');
    expect(audience?.config['included.client.audience']).toBe('divoc');
    expect(audience?.config['access.token.claim']).toBe('true');
    for (const clientId of TOKEN_CLIENTS)
      expect(client(clientId).defaultClientScopes, clientId).toContain('divoc-audience');
    // A hand-written realm replaces Keycloak's built-in scopes: sub, roles and username must still be mapped.
    const mappers = realm.clientScopes.flatMap((candidate) => candidate.protocolMappers ?? []);
    expect(mappers.some((mapper) => mapper.protocolMapper === 'oidc-sub-mapper')).toBe(true);
    expect(
      mappers.find((mapper) => mapper.protocolMapper === 'oidc-usermodel-client-role-mapper')?.config['claim.name'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Keycloak's own placeholder for the client id
    ).toBe('resource_access.${client_id}.roles');
    expect(mappers.find((mapper) => mapper.config['claim.name'] === 'preferred_username')).toBeDefined();
    for (const name of ['basic', 'roles', 'profile']) expect(realm.defaultDefaultClientScopes).toContain(name);
  });
});

// ---------------------------------------------------------------------------------------------------
// Where tokens come from: the real Keycloak, or a stand-in minting the same claims from the realm file.

interface TokenSource {
  /** Base URL for createKeycloakAuthenticator. */
  readonly url: string;
  clientCredentials(clientId: string, secret: string): Promise<string>;
  passwordGrant(clientId: string, username: string, password: string): Promise<string>;
  /** An access token of another realm (Keycloak's master realm). */
  foreignRealmToken(): Promise<string>;
  /** Makes a new key the realm's signing key; the returned function restores the previous state. */
  rotateSigningKey(): Promise<() => Promise<void>>;
  /** A client-credentials token living `seconds`. */
  shortLivedToken(seconds: number): Promise<{ token: string; clientId: string }>;
  close(): Promise<void>;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields);

/** The real Keycloak (scripts/infra/up): its token endpoint, and its admin REST API as the TEST-ONLY bootstrap admin. */
const keycloak = (() => {
  const url = realInfraEnv().KEYCLOAK_URL.replace(/\/$/, '');
  const admin = {
    username: process.env.KEYCLOAK_ADMIN_USERNAME ?? 'admin',
    password: process.env.KEYCLOAK_ADMIN_PASSWORD ?? 'test-only-keycloak-admin-password',
  };
  const token = async (realmName: string, fields: Record<string, string>): Promise<string> => {
    const response = await fetch(`${url}/realms/${realmName}/protocol/openid-connect/token`, {
      method: 'POST',
      body: form(fields),
    });
    const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
    if (!response.ok || body.access_token === undefined) {
      throw new Error(`token request failed: ${response.status} ${body.error}: ${body.error_description}`);
    }
    return body.access_token;
  };
  const adminToken = () =>
    token('master', {
      grant_type: 'password',
      client_id: 'admin-cli',
      username: admin.username,
      password: admin.password,
    });
  const adminApi = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const response = await fetch(`${url}/admin/realms/${realm.realm}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await adminToken()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response;
  };
  return { url, token, adminToken, adminApi };
})();

const keycloakSource = async (): Promise<TokenSource> => {
  const { url, token, adminToken, adminApi } = keycloak;
  const clientCredentials = (clientId: string, secret: string) =>
    token(realm.realm, { grant_type: 'client_credentials', client_id: clientId, client_secret: secret });
  const createdId = (response: Response): string => {
    const location = response.headers.get('location') ?? '';
    return location.slice(location.lastIndexOf('/') + 1);
  };

  return {
    url,
    clientCredentials,
    passwordGrant: (clientId, username, password) =>
      token(realm.realm, { grant_type: 'password', client_id: clientId, username, password, scope: 'openid' }),
    foreignRealmToken: adminToken,
    async rotateSigningKey() {
      const { id: realmId } = (await (await adminApi('GET', '')).json()) as { id: string };
      const created = await adminApi('POST', '/components', {
        name: uniqueName('rotation-test'),
        providerId: 'rsa-generated',
        providerType: 'org.keycloak.keys.KeyProvider',
        parentId: realmId,
        // Keycloak signs with the active key of the highest priority; the generated defaults have 100.
        config: { priority: ['1000'], keySize: ['2048'], active: ['true'], enabled: ['true'], algorithm: ['RS256'] },
      });
      const componentId = createdId(created);
      return async () => {
        await adminApi('DELETE', `/components/${componentId}`);
      };
    },
    async shortLivedToken(seconds) {
      const clientId = uniqueName('expiry-test');
      const secret = `test-only-${randomBytes(16).toString('hex')}`;
      const created = await adminApi('POST', '/clients', {
        clientId,
        description: 'TEST-ONLY: created and deleted by packages/platform/test/keycloak.test.ts',
        enabled: true,
        publicClient: false,
        clientAuthenticatorType: 'client-secret',
        secret,
        standardFlowEnabled: false,
        directAccessGrantsEnabled: false,
        serviceAccountsEnabled: true,
        attributes: { 'access.token.lifespan': String(seconds) },
      });
      try {
        return { token: await clientCredentials(clientId, secret), clientId };
      } finally {
        await adminApi('DELETE', `/clients/${createdId(created)}`);
      }
    },
    async close() {},
  };
};

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

const newKey = async (): Promise<SigningKey> => {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = randomUUID();
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
};

/**
 * The embedded set's stand-in: the realm's JWKS served over HTTP (so the authenticator fetches and refetches
 * it as it does from Keycloak), tokens with Keycloak's claims for the users, groups and secrets of the file.
 */
const realmFileSource = async (): Promise<TokenSource> => {
  const keys: SigningKey[] = [await newKey()];
  const server = createServer((request, response) => {
    if (request.url === `/realms/${realm.realm}/protocol/openid-connect/certs`) {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: keys.map((key) => key.publicJwk) }));
      return;
    }
    response.statusCode = 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const foreignKey = await newKey();

  const mint = async (
    clientId: string,
    username: string,
    { lifespan = realm.accessTokenLifespan, realmName = realm.realm, key = keys.at(-1) as SigningKey } = {},
  ) => {
    const scopes = client(clientId).defaultClientScopes ?? [];
    const account = user(username);
    const resourceAccess = Object.fromEntries([...rolesOf(username)].map(([id, roles]) => [id, { roles: [...roles] }]));
    const mobile = account.attributes?.mobile_number?.[0];
    return new SignJWT({
      azp: clientId,
      typ: 'Bearer',
      preferred_username: username,
      resource_access: resourceAccess,
      ...(scopes.includes('divoc-audience') ? { aud: 'divoc' } : {}),
      ...(mobile !== undefined && scopes.includes('mobile_number') ? { mobile_number: mobile } : {}),
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
      .setIssuer(`${url}/realms/${realmName}`)
      .setSubject(createHash('sha256').update(username).digest('hex').slice(0, 32))
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + lifespan)
      .setJti(randomUUID())
      .sign(key.privateKey);
  };

  return {
    url,
    async clientCredentials(clientId, secret) {
      const confidential = client(clientId);
      if (!confidential.serviceAccountsEnabled || confidential.secret !== secret)
        throw new Error('unauthorized_client');
      const account = realm.users.find((candidate) => candidate.serviceAccountClientId === clientId);
      if (account === undefined) throw new Error(`no service account for ${clientId}`);
      return mint(clientId, account.username);
    },
    async passwordGrant(clientId, username, password) {
      if (!client(clientId).directAccessGrantsEnabled) throw new Error('unauthorized_client');
      if (passwordOf(username) !== password) throw new Error('invalid_grant');
      return mint(clientId, username);
    },
    foreignRealmToken: () => mint('admin-api', 'service-account-admin-api', { realmName: 'master', key: foreignKey }),
    async rotateSigningKey() {
      const key = await newKey();
      keys.push(key);
      return async () => {
        keys.splice(keys.indexOf(key), 1);
      };
    },
    async shortLivedToken(seconds) {
      return {
        token: await mint('admin-api', 'service-account-admin-api', { lifespan: seconds }),
        clientId: 'admin-api',
      };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

// ---------------------------------------------------------------------------------------------------
// Tokens of the realm through the services' verifier (both modes).

/** Every access token of the realm lives minutes at most. */
const expectMinutes = (token: string): void => {
  const { iat, exp } = decodeJwt(token) as { iat: number; exp: number };
  expect(exp - iat).toBeGreaterThan(0);
  expect(exp - iat).toBeLessThanOrEqual(300);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** jose fetches the JWKS again on an unknown `kid`, but not within 5 s of the last fetch. */
const JWKS_COOLDOWN_MS = 5_000;

describe(`Keycloak tokens through createKeycloakAuthenticator (${useRealInfra() ? 'keycloak' : 'realm file stand-in'})`, () => {
  let source: TokenSource;
  const authenticator = (options: { allowedClients?: readonly string[]; clockToleranceSeconds?: number } = {}) =>
    createKeycloakAuthenticator({
      url: source.url,
      realm: env.KEYCLOAK_REALM,
      rolesClient: env.KEYCLOAK_ROLES_CLIENT,
      allowedClients: options.allowedClients ?? env.KEYCLOAK_ALLOWED_CLIENTS,
      ...(options.clockToleranceSeconds === undefined ? {} : { clockToleranceSeconds: options.clockToleranceSeconds }),
    });
  const bearer = (token: string) => `Bearer ${token}`;
  const rejection = async (auth: Authenticator, token: string) => {
    const error = await auth.authenticate(bearer(token)).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    return error as AuthenticationError;
  };

  beforeAll(async () => {
    source = useRealInfra() ? await keycloakSource() : await realmFileSource();
  });
  afterAll(async () => {
    await source?.close();
  });

  it('accepts a client-credentials token of admin-api with the roles facility-staff and api', async () => {
    const token = await source.clientCredentials('admin-api', ADMIN_API_SECRET);
    expectMinutes(token);
    const claims = decodeJwt(token);
    expect(claims.aud === 'divoc' || (Array.isArray(claims.aud) && claims.aud.includes('divoc'))).toBe(true);
    const principal = await authenticator().authenticate(bearer(token));
    expect(principal.clientId).toBe('admin-api');
    expect(principal.actor).toBe('service-account-admin-api');
    expect([...principal.roles].sort()).toEqual(['api', 'facility-staff']);
    expect(principal.mobile).toBeUndefined();
    expect(principal.expiresAt).toBe(claims.exp);
  });

  it('refuses admin-api with a wrong secret', async () => {
    await expect(source.clientCredentials('admin-api', 'not-the-secret')).rejects.toThrow();
  });

  it("reads a citizen's mobile_number into Principal.mobile, with the role recipient only", async () => {
    for (const mobile of ['9000012345', '9111111111']) {
      const username = `test-citizen-${mobile}`;
      const token = await source.passwordGrant('citizen-portal', username, passwordOf(username));
      expectMinutes(token);
      const principal = await authenticator().authenticate(bearer(token));
      expect(principal.mobile).toBe(mobile);
      expect([...principal.roles]).toEqual(['recipient']);
      expect(principal.clientId).toBe('citizen-portal');
      expect(principal.actor).toBe(username);
    }
  });

  it('refuses a wrong password', async () => {
    await expect(
      source.passwordGrant('citizen-portal', 'test-citizen-9111111111', 'Wrong-Passw0rd!!'),
    ).rejects.toThrow();
  });

  it('ignores a role named facility-staff that another client granted', async () => {
    const username = 'test-other-client-role';
    const token = await source.passwordGrant('citizen-portal', username, passwordOf(username));
    // The token does carry the role, from other-app: the verifier must not count it.
    const claims = decodeJwt(token) as { resource_access?: Record<string, { roles: string[] }> };
    expect(claims.resource_access?.['other-app']?.roles).toEqual(['facility-staff']);
    const principal = await authenticator().authenticate(bearer(token));
    expect(principal.actor).toBe(username);
    expect(principal.roles.has('facility-staff')).toBe(false);
    expect(principal.roles.size).toBe(0);
  });

  it('rejects a token of another realm', async () => {
    const token = await source.foreignRealmToken();
    expect(decodeJwt(token).iss).toMatch(/\/realms\/master$/);
    const error = await rejection(authenticator(), token);
    expect(error.statusCode).toBe(401);
  });

  it('rejects a token of a client that is not allowed, even with the right roles', async () => {
    const token = await source.clientCredentials('admin-api', ADMIN_API_SECRET);
    const error = await rejection(authenticator({ allowedClients: ['facility-portal'] }), token);
    expect(error.message).toMatch(/admin-api/);
  });

  it('accepts tokens signed with a new realm key without restarting (JWKS fetched again on an unknown kid)', async () => {
    const auth = authenticator();
    const before = await source.clientCredentials('admin-api', ADMIN_API_SECRET);
    await auth.authenticate(bearer(before));
    const fetchedAt = Date.now();
    const restore = await source.rotateSigningKey();
    try {
      const after = await source.clientCredentials('admin-api', ADMIN_API_SECRET);
      expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
      await sleep(Math.max(0, fetchedAt + JWKS_COOLDOWN_MS + 500 - Date.now()));
      const principal = await auth.authenticate(bearer(after));
      expect([...principal.roles].sort()).toEqual(['api', 'facility-staff']);
    } finally {
      await restore();
    }
    const restored = await source.clientCredentials('admin-api', ADMIN_API_SECRET);
    expect(decodeProtectedHeader(restored).kid).toBe(decodeProtectedHeader(before).kid);
  });

  it('rejects a token once it has expired', async () => {
    const { token, clientId } = await source.shortLivedToken(2);
    const { exp, iat } = decodeJwt(token) as { exp: number; iat: number };
    expect(exp - iat).toBe(2);
    const auth = authenticator({ allowedClients: [clientId], clockToleranceSeconds: 0 });
    await auth.authenticate(bearer(token));
    await sleep(Math.max(0, exp * 1000 + 1_000 - Date.now()));
    const error = await rejection(auth, token);
    expect(error.message).toMatch(/expired/);
  });
});

// ---------------------------------------------------------------------------------------------------
// Browser logins against the real Keycloak only: exact redirect URIs, PKCE, no password grant for staff.

interface Login {
  /** Where Keycloak sent the browser after the login form (or after the authorization request). */
  location: string;
  status: number;
}

const cookieHeader = (response: Response, jar: Map<string, string>): string => {
  for (const cookie of response.headers.getSetCookie()) {
    const [pair = ''] = cookie.split(';');
    const separator = pair.indexOf('=');
    if (separator > 0) jar.set(pair.slice(0, separator), pair.slice(separator + 1));
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
};

/** What a browser does: authorization request, login form, redirect back with a code. */
const browserLogin = async (
  base: string,
  {
    clientId,
    redirectUri,
    username,
    password,
    verifier,
  }: Record<'clientId' | 'redirectUri', string> & {
    username?: string;
    password?: string;
    verifier?: string;
  },
): Promise<Login> => {
  const authorize = new URL(`${base}/realms/${realm.realm}/protocol/openid-connect/auth`);
  authorize.search = form({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    state: randomUUID(),
    ...(verifier === undefined
      ? {}
      : {
          code_challenge: createHash('sha256').update(verifier).digest('base64url'),
          code_challenge_method: 'S256',
        }),
  }).toString();
  const jar = new Map<string, string>();
  const page = await fetch(authorize, { redirect: 'manual' });
  if (page.status !== 200 || username === undefined) {
    return { status: page.status, location: page.headers.get('location') ?? (await page.text()) };
  }
  const cookies = cookieHeader(page, jar);
  const action = /action="([^"]*login-actions\/authenticate[^"]*)"/.exec(await page.text())?.[1];
  if (action === undefined) throw new Error('no login form in the page');
  const submitted = await fetch(action.replaceAll('&amp;', '&'), {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookies },
    body: form({ username, password: password ?? '', credentialId: '' }),
  });
  return { status: submitted.status, location: submitted.headers.get('location') ?? '' };
};

if (useRealInfra()) {
  describe('Keycloak realm as imported: browser logins and clients (keycloak)', () => {
    const base = keycloak.url;
    const facility = {
      clientId: 'facility-portal',
      redirectUri: client('facility-portal').redirectUris?.[0] as string,
    };
    const auth = createKeycloakAuthenticator({
      url: base,
      realm: env.KEYCLOAK_REALM,
      rolesClient: env.KEYCLOAK_ROLES_CLIENT,
      allowedClients: env.KEYCLOAK_ALLOWED_CLIENTS,
    });

    const loginAndExchange = async (username: string) => {
      const verifier = randomBytes(32).toString('base64url');
      const login = await browserLogin(base, { ...facility, username, password: passwordOf(username), verifier });
      expect(login.status).toBe(302);
      const back = new URL(login.location);
      expect(`${back.origin}${back.pathname}`).toBe(facility.redirectUri);
      const code = back.searchParams.get('code') ?? '';
      const exchange = (codeVerifier: string) =>
        fetch(`${base}/realms/${realm.realm}/protocol/openid-connect/token`, {
          method: 'POST',
          body: form({
            grant_type: 'authorization_code',
            client_id: facility.clientId,
            redirect_uri: facility.redirectUri,
            code,
            code_verifier: codeVerifier,
          }),
        });
      return { exchange, verifier };
    };

    it('logs facility staff in through the facility portal with PKCE, roles from their group', async () => {
      for (const [username, role] of [
        ['test-staff', 'facility-staff'],
        ['test-print', 'facility-print-staff'],
      ] as const) {
        const { exchange, verifier } = await loginAndExchange(username);
        const response = await exchange(verifier);
        expect(response.status).toBe(200);
        const { access_token: token } = (await response.json()) as { access_token: string };
        expectMinutes(token);
        const principal = await auth.authenticate(`Bearer ${token}`);
        expect(principal.clientId).toBe('facility-portal');
        expect(principal.actor).toBe(username);
        expect([...principal.roles]).toEqual([role]);
      }
    });

    it('does not exchange a code without the PKCE verifier it was issued for', async () => {
      const { exchange } = await loginAndExchange('test-staff');
      const response = await exchange(randomBytes(32).toString('base64url'));
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_grant');
    });

    it('requires PKCE S256 from the portals', async () => {
      for (const clientId of PORTALS) {
        const redirectUri = client(clientId).redirectUris?.[0] as string;
        const login = await browserLogin(base, { clientId, redirectUri });
        expect(login.status, clientId).toBe(302);
        const back = new URL(login.location);
        expect(back.searchParams.get('error'), clientId).toBe('invalid_request');
        expect(back.searchParams.get('error_description'), clientId).toMatch(/code_challenge/);
      }
    });

    it('sends codes only to the exact registered redirect URI', async () => {
      const verifier = randomBytes(32).toString('base64url');
      for (const redirectUri of [
        `${facility.redirectUri}/x`,
        `${facility.redirectUri}?next=https://attacker.example`,
        'http://localhost:3000/facility/other',
        'http://localhost:3000/citizen/callback',
        'http://attacker.example/facility/callback',
      ]) {
        const login = await browserLogin(base, { clientId: facility.clientId, redirectUri, verifier });
        expect(login.status, redirectUri).toBe(400);
        expect(login.location, redirectUri).toMatch(/redirect_uri/);
      }
    });

    it('refuses password logins through the facility portal and the verification app', async () => {
      for (const clientId of ['facility-portal', 'verification-app']) {
        const response = await fetch(`${base}/realms/${realm.realm}/protocol/openid-connect/token`, {
          method: 'POST',
          body: form({
            grant_type: 'password',
            client_id: clientId,
            username: 'test-staff',
            password: passwordOf('test-staff'),
          }),
        });
        expect(response.status, clientId).toBeGreaterThanOrEqual(400);
        expect(((await response.json()) as { error: string }).error, clientId).toBe('unauthorized_client');
      }
    });

    it("rejects tokens of Keycloak's built-in admin-cli client, which every realm has and which allows password logins", async () => {
      const token = await keycloak.token(realm.realm, {
        grant_type: 'password',
        client_id: 'admin-cli',
        username: 'test-staff',
        password: passwordOf('test-staff'),
      });
      expect(decodeJwt(token).azp).toBe('admin-cli');
      const error = await auth.authenticate(`Bearer ${token}`).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AuthenticationError);
    });

    it("has no absolute wildcard redirect URI: only Keycloak's own consoles keep relative ones under its paths", async () => {
      const clients = (await (await keycloak.adminApi('GET', '/clients')).json()) as Client[];
      const builtIn = new Map([
        ['account', `/realms/${realm.realm}/account/*`],
        ['account-console', `/realms/${realm.realm}/account/*`],
        ['security-admin-console', `/admin/${realm.realm}/console/*`],
      ]);
      for (const { clientId, redirectUris = [] } of clients) {
        const fromFile = realm.clients.find((candidate) => candidate.clientId === clientId);
        if (fromFile !== undefined) {
          expect(redirectUris, clientId).toEqual(fromFile.redirectUris ?? []);
        } else {
          for (const uri of redirectUris) expect(uri, clientId).toBe(builtIn.get(clientId));
        }
      }
    });
  });
}
