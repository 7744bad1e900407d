-- Certificates keep the credential exactly as the signer wrote it: json stores the text, while jsonb
-- re-serializes it with its keys re-ordered (shortest first). Downloads and QR codes then carry the
-- signed JSON in the builder's key order, which also deflates ~12 bytes smaller (decision 0020). Inserting json
-- only validates the text: 30 -> 21 µs of Postgres CPU per certificate. The print desk's search uses
-- the -> and ->> operators, which json has too.
ALTER TABLE certificates ALTER COLUMN credential TYPE json USING credential::json;

-- The type change rewrites the column; keep (or set) lz4 as in 0005.
DO $$
BEGIN
  ALTER TABLE certificates ALTER COLUMN credential SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not available on this server; credentials stay pglz-compressed';
END $$;
