import { randomInt } from 'node:crypto';
import type { Queryable } from '@divoc/platform';

/** 131,072 bits: 16 KB, the minimum size W3C recommends for herd privacy. */
export const STATUS_LIST_SIZE = 131_072;
/** A list takes no new certificates past this share, so random free indices stay cheap to find. */
const FILL_LIMIT = 0.8;

export interface StatusEntry {
  listId: number;
  index: number;
}

/** The list that receives new certificates (created when the last one is full), locked for this transaction. */
const currentList = async (tx: Queryable): Promise<{ listId: number; size: number; allocated: number }> => {
  const open = await tx.query<{ listId: number; size: number; allocated: number }>(
    `SELECT list_id AS "listId", size, allocated FROM status_lists
     WHERE purpose = 'revocation' AND allocated < size * $1::numeric ORDER BY list_id LIMIT 1 FOR UPDATE`,
    [FILL_LIMIT],
  );
  if (open.rows[0]) return open.rows[0];
  const created = await tx.query<{ listId: number; size: number; allocated: number }>(
    `INSERT INTO status_lists (list_id, size) SELECT coalesce(max(list_id), 0) + 1, $1 FROM status_lists
     RETURNING list_id AS "listId", size, allocated`,
    [STATUS_LIST_SIZE],
  );
  return created.rows[0] as { listId: number; size: number; allocated: number };
};

/**
 * Gives each certificate a random free index in the current status list (random, so an index says
 * nothing about when or where a certificate was issued). Runs in the caller's transaction.
 */
export const allocateStatusEntries = async (
  tx: Queryable,
  certificateIds: readonly string[],
): Promise<Map<string, StatusEntry>> => {
  const allocated = new Map<string, StatusEntry>();
  if (certificateIds.length === 0) return allocated;
  const list = await currentList(tx);
  let pending = [...certificateIds];
  for (let round = 0; pending.length > 0; round++) {
    if (round > 20) throw new Error(`status list ${list.listId}: no free index found after ${round} rounds`);
    const candidates = pending.map((certificateId) => ({
      certificate_id: certificateId,
      status_index: randomInt(list.size),
    }));
    const { rows } = await tx.query<{ certificate_id: string; status_index: number }>(
      `INSERT INTO status_entries (list_id, status_index, certificate_id)
       SELECT $1, status_index, certificate_id FROM jsonb_to_recordset($2::jsonb) AS c(certificate_id text, status_index int)
       ON CONFLICT (list_id, status_index) DO NOTHING RETURNING certificate_id, status_index`,
      [list.listId, JSON.stringify(candidates)],
    );
    for (const row of rows) allocated.set(row.certificate_id, { listId: list.listId, index: row.status_index });
    pending = pending.filter((certificateId) => !allocated.has(certificateId));
  }
  await tx.query('UPDATE status_lists SET allocated = allocated + $2 WHERE list_id = $1', [
    list.listId,
    certificateIds.length,
  ]);
  return allocated;
};

/** Frees the entries of certificates that were not stored after all (duplicates). */
export const releaseStatusEntries = async (tx: Queryable, certificateIds: readonly string[]): Promise<void> => {
  if (certificateIds.length === 0) return;
  await tx.query('DELETE FROM status_entries WHERE certificate_id = ANY($1::text[])', [certificateIds]);
};

/** Sets the revocation bit of these certificates and marks their lists for republication. */
export const setStatusBits = async (tx: Queryable, certificateIds: readonly string[]): Promise<void> => {
  if (certificateIds.length === 0) return;
  const { rows } = await tx.query<{ list_id: number }>(
    `UPDATE status_entries SET revoked = true WHERE certificate_id = ANY($1::text[]) AND NOT revoked RETURNING list_id`,
    [certificateIds],
  );
  const lists = [...new Set(rows.map((row) => row.list_id))];
  if (lists.length > 0)
    await tx.query('UPDATE status_lists SET version = version + 1 WHERE list_id = ANY($1::int[])', [lists]);
};

export interface ListToPublish {
  listId: number;
  size: number;
  version: number;
}

export const listsToPublish = async (db: Queryable): Promise<ListToPublish[]> =>
  (
    await db.query<ListToPublish>(
      `SELECT list_id AS "listId", size, version FROM status_lists WHERE version > published_version OR credential IS NULL ORDER BY list_id`,
    )
  ).rows;

export const revokedIndices = async (db: Queryable, listId: number): Promise<number[]> =>
  (
    await db.query<{ status_index: number }>('SELECT status_index FROM status_entries WHERE list_id = $1 AND revoked', [
      listId,
    ])
  ).rows.map((row) => row.status_index);

/** Stores a signed list unless a newer version was stored meanwhile (several publishers may race). */
export const savePublishedList = async (
  db: Queryable,
  list: { listId: number; version: number; credential: object; etag: string; publishedAt: Date },
): Promise<void> => {
  await db.query(
    `UPDATE status_lists SET credential = $3::jsonb, etag = $4, published_version = $2, published_at = $5
     WHERE list_id = $1 AND (published_version < $2 OR credential IS NULL)`,
    [list.listId, list.version, JSON.stringify(list.credential), list.etag, list.publishedAt.toISOString()],
  );
};

export const findPublishedList = async (
  db: Queryable,
  listId: number,
): Promise<{ credential: object; etag: string; publishedAt: Date } | undefined> =>
  (
    await db.query<{ credential: object; etag: string; publishedAt: Date }>(
      `SELECT credential, etag, published_at AS "publishedAt" FROM status_lists WHERE list_id = $1 AND credential IS NOT NULL`,
      [listId],
    )
  ).rows[0];
