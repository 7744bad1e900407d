import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/**
 * The two Keycloak endpoints recipient provisioning uses (client-credentials token, create user), for
 * `pnpm test`, where no Keycloak runs; `pnpm test:infra` uses the real one. It answers as Keycloak 26
 * does: 201 for a new user, 409 for an existing username, 401 for an unknown token — and 503 on demand,
 * to show that an unavailable Keycloak delays accounts without losing any.
 */
export interface KeycloakAdminStandIn {
  url: string;
  users: Map<string, { attributes: Record<string, string[]>; groups: string[] }>;
  /** The next `count` create-user calls answer 503. */
  failNext(count: number): void;
  close(): Promise<void>;
}

const read = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

export const startKeycloakAdminStandIn = async (client: {
  id: string;
  secret: string;
}): Promise<KeycloakAdminStandIn> => {
  const users: KeycloakAdminStandIn['users'] = new Map();
  const tokens = new Set<string>();
  let failures = 0;
  const server: Server = createServer(async (request, response) => {
    const body = await read(request);
    const reply = (status: number, json?: unknown) => {
      response.writeHead(status, json === undefined ? {} : { 'content-type': 'application/json' });
      response.end(json === undefined ? undefined : JSON.stringify(json));
    };
    if (request.method === 'POST' && request.url === '/realms/divoc/protocol/openid-connect/token') {
      const form = new URLSearchParams(body);
      if (form.get('client_id') !== client.id || form.get('client_secret') !== client.secret) {
        return reply(401, { error: 'unauthorized_client' });
      }
      const token = randomBytes(16).toString('hex');
      tokens.add(token);
      return reply(200, { access_token: token, expires_in: 300, token_type: 'Bearer' });
    }
    if (request.method === 'POST' && request.url === '/admin/realms/divoc/users') {
      if (!tokens.has((request.headers.authorization ?? '').replace(/^Bearer /, ''))) return reply(401);
      if (failures > 0) {
        failures--;
        return reply(503, { error: 'unavailable' });
      }
      const user = JSON.parse(body) as { username: string; attributes: Record<string, string[]>; groups: string[] };
      if (users.has(user.username)) return reply(409, { errorMessage: 'User exists with same username' });
      users.set(user.username, { attributes: user.attributes, groups: user.groups });
      return reply(201);
    }
    reply(404);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    users,
    failNext: (count) => {
      failures = count;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
};
