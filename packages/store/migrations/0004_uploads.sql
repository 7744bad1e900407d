-- Bulk certification by CSV upload (DESIGN §5, §7; decision 0013). The gateway stores the file here
-- while it is processed (any gateway pod can resume it), turns every row into a certify request in
-- chunks, and certificate-processor keeps the counts from certify_ack.
CREATE TABLE uploads (
  id                text PRIMARY KEY,
  kind              text NOT NULL CHECK (kind IN ('vaccination', 'test')),
  filename          text NOT NULL,
  -- Who uploaded it (the token's username); only they can read it back.
  actor             text NOT NULL,
  -- receiving → processing → completed; failed (the file could not be processed); rejected (400 at upload).
  status            text NOT NULL CHECK (status IN ('receiving', 'processing', 'completed', 'failed', 'rejected')),
  error             text,
  -- The header row as sent (trimmed, without BOM): cells are stored in this order.
  columns           jsonb,
  bytes             bigint NOT NULL DEFAULT 0,
  -- Data rows in the file; null until the file has been read through once.
  total_rows        integer,
  valid_rows        integer NOT NULL DEFAULT 0,
  invalid_rows      integer NOT NULL DEFAULT 0,
  issued_rows       integer NOT NULL DEFAULT 0,
  duplicate_rows    integer NOT NULL DEFAULT 0,
  failed_rows       integer NOT NULL DEFAULT 0,
  -- The first row not yet committed: advanced in the transaction that queues a chunk, so a resumed
  -- upload continues exactly where the last commit left it.
  next_row          integer NOT NULL DEFAULT 1,
  -- The gateway instance processing it, until when (renewed by every chunk; a crashed pod's lease expires).
  lease_owner       text,
  lease_until       timestamptz,
  created_at        timestamptz NOT NULL,
  received_at       timestamptz,
  published_at      timestamptz,
  completed_at      timestamptz,
  cells_removed_at  timestamptz,
  updated_at        timestamptz NOT NULL
);
CREATE INDEX uploads_by_actor ON uploads (actor, kind, created_at DESC);
CREATE INDEX uploads_unfinished ON uploads (created_at) WHERE status IN ('receiving', 'processing');
CREATE INDEX uploads_with_cells ON uploads (created_at) WHERE cells_removed_at IS NULL;

-- One row per data row of an upload. Valid rows keep their cells only until they are signed (issued or
-- duplicate clears them); invalid and failed rows keep them for BULK_ERROR_RETENTION_DAYS, then the cells
-- are deleted and only the row number, status and reasons remain.
CREATE TABLE upload_rows (
  upload_id   text NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
  row_no      integer NOT NULL,
  status      text NOT NULL CHECK (status IN ('invalid', 'queued', 'issued', 'duplicate', 'failed')),
  -- [{field, reason}]: the CSV column and what is wrong; never the cell's value.
  errors      jsonb,
  -- The cells as sent, in the order of uploads.columns (personal data: see above).
  cells       jsonb,
  request_id  text,
  updated_at  timestamptz NOT NULL,
  PRIMARY KEY (upload_id, row_no)
);
CREATE INDEX upload_rows_failed ON upload_rows (upload_id, row_no) WHERE status IN ('invalid', 'failed');

-- The uploaded file while it is processed, in chunks of about 1 MiB (streamed in, streamed out);
-- deleted once every row is queued. Uncompressed: it is short-lived, and compressing costs upload time.
CREATE TABLE upload_files (
  upload_id  text NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
  seq        integer NOT NULL,
  data       bytea NOT NULL,
  PRIMARY KEY (upload_id, seq)
);
ALTER TABLE upload_files ALTER COLUMN data SET STORAGE EXTERNAL;
