import { useRealInfra } from '@divoc/platform/testing';
import { describe, expect, it } from 'vitest';
import {
  findActiveCertificate,
  insertCertificates,
  lockActiveCertificate,
  type NewCertificate,
  supersede,
} from '../src/index.js';
import { useTestDatabase } from './support.js';

/** The one active certificate of a dose, read while the signer replaces it (an update). */
const store = useTestDatabase();

const certificate = (id: string, code: string, revision: number): NewCertificate => ({
  certificateId: id,
  requestId: `request-${id}`,
  kind: 'vaccination',
  preEnrollmentCode: code,
  programId: 'C19',
  dose: 1,
  totalDoses: 2,
  slot: '1',
  credential: { id },
  name: 'Ananya Raghavan',
  issuedAt: new Date(),
  revision,
});
const slotOf = (code: string) => ({
  preEnrollmentCode: code,
  programId: 'C19',
  kind: 'vaccination' as const,
  slot: '1',
});

/** Replaces the active certificate of `code` by `next` in one transaction that waits for `release`. */
const replaceWhenReleased = (code: string, previous: string, next: string, release: Promise<void>) => {
  let locked!: () => void;
  const holding = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const done = store.db.transaction(async (tx) => {
    await lockActiveCertificate(tx, slotOf(code));
    await supersede(tx, {
      oldCertificateId: previous,
      newCertificateId: next,
      actor: 'test',
      requestId: `request-${next}`,
      at: new Date(),
    });
    await insertCertificates(tx, [{ ...certificate(next, code, 2), previousCertificateId: previous }]);
    locked();
    await release;
  });
  return { holding, done };
};

describe('the active certificate of a dose', () => {
  it('is found, locked and replaced in one transaction', async () => {
    await insertCertificates(store.db, [certificate('A0', 'CODE-A', 1)]);
    expect(await findActiveCertificate(store.db, slotOf('CODE-A'))).toEqual({ certificateId: 'A0', revision: 1 });
    await store.db.transaction(async (tx) => {
      expect(await lockActiveCertificate(tx, slotOf('CODE-A'))).toEqual({ certificateId: 'A0', revision: 1 });
      await supersede(tx, {
        oldCertificateId: 'A0',
        newCertificateId: 'A1',
        actor: 't',
        requestId: 'r',
        at: new Date(),
      });
      await insertCertificates(tx, [{ ...certificate('A1', 'CODE-A', 2), previousCertificateId: 'A0' }]);
    });
    expect(await findActiveCertificate(store.db, slotOf('CODE-A'))).toEqual({ certificateId: 'A1', revision: 2 });
    expect(await findActiveCertificate(store.db, slotOf('CODE-NONE'))).toBeUndefined();
  });

  // Concurrency needs two connections; PGlite has one and runs transactions one after the other.
  it.runIf(useRealInfra())(
    'is never missing while an update replaces it: a plain read sees the old one, a waiting lock gets the new one',
    async () => {
      await insertCertificates(store.db, [certificate('B0', 'CODE-B', 1)]);
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const update = replaceWhenReleased('CODE-B', 'B0', 'B1', released);
      await update.holding;
      // The gateway's check during the signer's transaction: not blocked, and sees the committed state.
      expect(await findActiveCertificate(store.db, slotOf('CODE-B'))).toEqual({ certificateId: 'B0', revision: 1 });
      // Another transaction that wants the dose's certificate waits for the lock...
      const waiting = store.db.transaction((tx) => lockActiveCertificate(tx, slotOf('CODE-B')));
      await new Promise((resolve) => setTimeout(resolve, 200));
      release();
      await update.done;
      // ...and then locks the replacement (one statement alone would see neither row).
      await expect(waiting).resolves.toEqual({ certificateId: 'B1', revision: 2 });
      expect(await findActiveCertificate(store.db, slotOf('CODE-B'))).toEqual({ certificateId: 'B1', revision: 2 });
    },
  );
});
