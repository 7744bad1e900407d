-- Certificates: the signed credential and what the read paths look it up by (DESIGN §7).
CREATE TABLE certificates (
  certificate_id          text PRIMARY KEY,
  request_id              text NOT NULL UNIQUE,
  kind                    text NOT NULL CHECK (kind IN ('vaccination', 'test')),
  pre_enrollment_code     text NOT NULL,
  program_id              text,
  dose                    integer NOT NULL,
  total_doses             integer,
  -- What one active certificate stands for: the dose (vaccination) or the sample time (test).
  slot                    text NOT NULL,
  status                  text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'superseded', 'revoked')),
  previous_certificate_id text REFERENCES certificates (certificate_id),
  revision                integer NOT NULL DEFAULT 1,
  credential              jsonb NOT NULL,
  name                    text NOT NULL,
  mobile                  text,
  email                   text,
  issued_at               timestamptz NOT NULL,
  status_changed_at       timestamptz
);

-- One active certificate per beneficiary, programme, kind and dose: a duplicate is impossible,
-- whatever the cache or the consumers do.
CREATE UNIQUE INDEX certificates_one_active
  ON certificates (pre_enrollment_code, coalesce(program_id, ''), kind, slot)
  WHERE status = 'active';
CREATE INDEX certificates_by_pre_enrollment_code ON certificates (pre_enrollment_code);
CREATE INDEX certificates_by_mobile ON certificates (mobile);

-- The request ledger behind GET /divoc/api/v1/requests/{requestId}.
CREATE TABLE requests (
  request_id          text PRIMARY KEY,
  operation           text NOT NULL CHECK (operation IN ('certify', 'update')),
  kind                text NOT NULL CHECK (kind IN ('vaccination', 'test')),
  api_version         text NOT NULL,
  pre_enrollment_code text NOT NULL,
  dose                integer,
  status              text NOT NULL DEFAULT 'accepted' CHECK (status IN ('accepted', 'issued', 'duplicate', 'failed')),
  certificate_id      text,
  error               text,
  actor               text NOT NULL,
  received_at         timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL
);

-- Idempotency-Key: the same key from the same caller returns the first answer.
CREATE TABLE idempotency_keys (
  actor        text NOT NULL,
  key          text NOT NULL,
  body_sha256  text NOT NULL,
  response     jsonb NOT NULL,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (actor, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- Transactional outbox: events committed with the data that caused them, published afterwards.
CREATE TABLE outbox (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic       text NOT NULL,
  key         text,
  value       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
