-- Revocation and supersession (DESIGN §7): who revoked what, when and why. A certificate is never
-- deleted; its status changes and this table keeps the record.
CREATE TABLE revocations (
  certificate_id      text PRIMARY KEY REFERENCES certificates (certificate_id),
  pre_enrollment_code text NOT NULL,
  dose                integer NOT NULL,
  -- 'superseded' for an update, otherwise the reason given with the revocation.
  reason              text NOT NULL,
  -- Deferred: an update supersedes the old certificate before it stores the new one (one active at a time).
  replaced_by         text REFERENCES certificates (certificate_id) DEFERRABLE INITIALLY DEFERRED,
  actor               text NOT NULL,
  request_id          text,
  revoked_at          timestamptz NOT NULL
);
CREATE INDEX revocations_by_pre_enrollment_code ON revocations (pre_enrollment_code);

-- W3C status lists (StatusList2021): every certificate owns one bit, at a random free index.
CREATE TABLE status_lists (
  list_id           integer PRIMARY KEY,
  purpose           text NOT NULL DEFAULT 'revocation',
  size              integer NOT NULL,
  allocated         integer NOT NULL DEFAULT 0,
  -- Bumped by every change of a bit; the publisher signs a new list credential when it moves.
  version           bigint NOT NULL DEFAULT 0,
  published_version bigint NOT NULL DEFAULT -1,
  credential        jsonb,
  etag              text,
  published_at      timestamptz
);

CREATE TABLE status_entries (
  list_id        integer NOT NULL REFERENCES status_lists (list_id),
  status_index   integer NOT NULL,
  certificate_id text NOT NULL UNIQUE,
  revoked        boolean NOT NULL DEFAULT false,
  PRIMARY KEY (list_id, status_index)
);
CREATE INDEX status_entries_revoked ON status_entries (list_id) WHERE revoked;
