import { CertifiedEvent, TOPICS, topicSpecs } from '@divoc/contracts';
import {
  createKeycloakRecipientDirectory,
  createMemoryBus,
  type EventBus,
  KeycloakDirectoryError,
  listDeadLetters,
  silentLogger,
} from '@divoc/platform';
import { afterEach, describe, expect, it } from 'vitest';
import { createProvisioningHandler } from '../src/recipients/handle-certified.js';
import { type KeycloakAdminStandIn, startKeycloakAdminStandIn } from './keycloak-admin-stand-in.js';

const CLIENT = { id: 'recipient-provisioner', secret: 'test-only-secret' };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const standIn = async (): Promise<KeycloakAdminStandIn> => {
  const server = await startKeycloakAdminStandIn(CLIENT);
  cleanups.push(() => server.close());
  return server;
};

const directoryFor = (server: KeycloakAdminStandIn, secret = CLIENT.secret) =>
  createKeycloakRecipientDirectory({
    url: server.url,
    realm: 'divoc',
    clientId: CLIENT.id,
    clientSecret: secret,
    group: '/recipients',
  });

const certified = (code: string, contact: string[]) =>
  JSON.stringify(
    CertifiedEvent.parse({
      requestId: `r-${code}`,
      certificateId: `c-${code}`,
      preEnrollmentCode: code,
      dose: 1,
      kind: 'vaccination',
      contact,
      name: 'Test Person',
      product: 'Covishield',
      issuedAt: new Date().toISOString(),
    }),
  );

const waitFor = async (check: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('Keycloak recipient directory', () => {
  it('creates each account once, with mobile_number and the recipients group, and counts existing ones', async () => {
    const server = await standIn();
    const directory = directoryFor(server);
    expect(await directory.ensureRecipients(['9000000001', '9000000002', '9000000001'])).toEqual({
      created: 2,
      existing: 0,
    });
    expect(await directory.ensureRecipients(['9000000002', '9000000003'])).toEqual({ created: 1, existing: 1 });
    expect(server.users.get('9000000001')).toEqual({
      attributes: { mobile_number: ['9000000001'] },
      groups: ['/recipients'],
    });
  });

  it('names the variable to fix when Keycloak refuses the client secret, and fails on an outage', async () => {
    const server = await standIn();
    await expect(directoryFor(server, 'wrong').ensureRecipients(['9000000001'])).rejects.toThrow(
      /KEYCLOAK_PROVISIONING_CLIENT_SECRET/,
    );
    server.failNext(1);
    await expect(directoryFor(server).ensureRecipients(['9000000001'])).rejects.toThrow(KeycloakDirectoryError);
    expect(server.users.size).toBe(0);
  });
});

describe('provisioning from certified events', () => {
  const start = async (server: KeycloakAdminStandIn): Promise<EventBus> => {
    const bus = createMemoryBus({ partitions: 2, logger: silentLogger() });
    cleanups.push(() => bus.close());
    await bus.ensureTopics(topicSpecs());
    const consumer = await bus.consume({
      groupId: 'recipients',
      topics: [TOPICS.certified],
      handle: createProvisioningHandler({ directory: directoryFor(server), logger: silentLogger() }),
      retry: { initialMs: 20, maxMs: 100 },
    });
    cleanups.push(() => consumer.stop());
    return bus;
  };

  it('provisions tel: contacts only, by their last ten digits, and dead-letters what is not an event', async () => {
    const server = await standIn();
    const bus = await start(server);
    await bus.publish(TOPICS.certified, [
      { key: 'A', value: certified('A', ['tel:+919000011111', 'mailto:a@example.org']) },
      { key: 'B', value: certified('B', ['mailto:b@example.org']) },
      { key: 'C', value: 'not json' },
    ]);
    await waitFor(() => server.users.size === 1);
    expect([...server.users.keys()]).toEqual(['9000011111']);
    const letters = await listDeadLetters(bus, TOPICS.certified);
    expect(letters.map((letter) => [letter.key, letter.error])).toEqual([['C', 'the message is not JSON']]);
  });

  it('retries while Keycloak is unavailable and creates the account once it is back, losing none', async () => {
    const server = await standIn();
    server.failNext(3);
    const bus = await start(server);
    await bus.publish(TOPICS.certified, [
      { key: 'D', value: certified('D', ['tel:9000022222']) },
      { key: 'E', value: certified('E', ['tel:9000033333']) },
    ]);
    await waitFor(() => server.users.size === 2);
    expect([...server.users.keys()].sort()).toEqual(['9000022222', '9000033333']);
    expect(await listDeadLetters(bus, TOPICS.certified)).toEqual([]);
  });
});
