/**
 * Creates citizen accounts in Keycloak (DIVOC's recipient provisioning): a user named after the mobile
 * number, with the `mobile_number` attribute the services read and membership of the group that grants
 * `recipient`. Talks to the admin REST API with the client-credentials token of a client that may manage
 * users and nothing else (not admin-api: a source system has no business creating accounts).
 */
export interface RecipientDirectory {
  /** Ensures an account exists for each mobile number (10 digits); existing accounts are left as they are. */
  ensureRecipients(mobiles: readonly string[]): Promise<{ created: number; existing: number }>;
}

export interface KeycloakDirectoryOptions {
  /** Keycloak base URL, e.g. https://keycloak.example (KEYCLOAK_URL). */
  url: string;
  realm: string;
  clientId: string;
  clientSecret: string;
  /** Group path that grants `recipient` (the realm's `/recipients`). */
  group: string;
  /** Parallel requests to Keycloak (default 4). */
  concurrency?: number;
  fetch?: typeof fetch;
}

/** A Keycloak answer the provisioning cannot get past by itself (wrong secret, missing permission). */
export class KeycloakDirectoryError extends Error {}

const TOKEN_MARGIN_MS = 10_000;

export const createKeycloakRecipientDirectory = (options: KeycloakDirectoryOptions): RecipientDirectory => {
  const base = options.url.replace(/\/+$/, '');
  const http = options.fetch ?? fetch;
  let token: { value: string; expiresAt: number } | undefined;

  const accessToken = async (): Promise<string> => {
    if (token !== undefined && token.expiresAt - TOKEN_MARGIN_MS > Date.now()) return token.value;
    const response = await http(`${base}/realms/${encodeURIComponent(options.realm)}/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: options.clientId,
        client_secret: options.clientSecret,
      }),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
    };
    if (!response.ok || body.access_token === undefined) {
      throw new KeycloakDirectoryError(
        `Keycloak refused the client credentials of ${options.clientId} (${response.status} ${body.error ?? ''}): check KEYCLOAK_PROVISIONING_CLIENT_SECRET`,
      );
    }
    token = { value: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 60) * 1000 };
    return token.value;
  };

  /** true = created, false = it existed. */
  const createUser = async (mobile: string, retried = false): Promise<boolean> => {
    const response = await http(`${base}/admin/realms/${encodeURIComponent(options.realm)}/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await accessToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        username: mobile,
        enabled: true,
        attributes: { mobile_number: [mobile] },
        groups: [options.group],
      }),
    });
    if (response.status === 201) return true;
    if (response.status === 409) return false;
    if (response.status === 401 && !retried) {
      token = undefined; // Revoked or expired early: one fresh token, then give up.
      return createUser(mobile, true);
    }
    const detail = (await response.text()).slice(0, 200);
    throw new KeycloakDirectoryError(
      `Keycloak answered ${response.status} to creating a recipient account${response.status === 403 ? ` (${options.clientId} needs realm-management manage-users)` : ''}: ${detail}`,
    );
  };

  return {
    async ensureRecipients(mobiles) {
      const pending = [...new Set(mobiles)];
      let created = 0;
      let existing = 0;
      const worker = async () => {
        for (let mobile = pending.pop(); mobile !== undefined; mobile = pending.pop()) {
          if (await createUser(mobile)) created++;
          else existing++;
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
      return { created, existing };
    },
  };
};
