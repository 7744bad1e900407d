import { createHash } from 'node:crypto';
import { buildStatusListCredential, encodeStatusList, type SigningKey, signCredential } from '@divoc/credentials';
import type { Database, Logger } from '@divoc/platform';
import { listsToPublish, revokedIndices, savePublishedList } from '@divoc/store';

export interface StatusPublisher {
  /** Signs and stores every list that changed since it was last published; returns how many. */
  publishChanged(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Republishes status lists: whenever a list's version moved (a revocation or a supersession set a
 * bit), the bitstring is rebuilt from the database, signed as a StatusList2021Credential and stored
 * for the download endpoint. Polls every `intervalMs` (default 1 s), so a change is public within
 * seconds; several replicas may run it (the newest version wins).
 */
export const createStatusPublisher = ({
  db,
  logger,
  key,
  issuer,
  listUrl,
  intervalMs = 1000,
}: {
  db: Database;
  logger: Logger;
  key: () => SigningKey;
  issuer: string;
  listUrl: (listId: number) => string;
  intervalMs?: number;
}): StatusPublisher => {
  let running: Promise<number> | undefined;
  const publishOnce = async (): Promise<number> => {
    const lists = await listsToPublish(db);
    for (const list of lists) {
      const now = new Date();
      const unsigned = buildStatusListCredential({
        listUrl: listUrl(list.listId),
        issuer,
        encodedList: encodeStatusList(list.size, await revokedIndices(db, list.listId)),
        issuanceDate: now,
      });
      const credential = await signCredential(unsigned, { key: key(), created: now });
      const etag = `"${createHash('sha256').update(JSON.stringify(credential)).digest('base64url').slice(0, 27)}"`;
      await savePublishedList(db, { listId: list.listId, version: list.version, credential, etag, publishedAt: now });
    }
    return lists.length;
  };
  const publishChanged = () => {
    running ??= publishOnce().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          publishChanged().catch((error: unknown) =>
            logger.warn({ err: error }, 'status list publication failed; will retry'),
          );
        }, intervalMs)
      : undefined;
  timer?.unref();
  return {
    publishChanged,
    async stop() {
      if (timer) clearInterval(timer);
      await running?.catch(() => 0);
    },
  };
};
