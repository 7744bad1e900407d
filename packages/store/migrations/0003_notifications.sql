-- The notification delivery log (DESIGN §7): one row per message to send — per delivery (the certificate,
-- the revocation or the notify event), channel, template and recipient. A row is claimed before every
-- attempt and only a row that is not 'sent' is sent again, so a redelivered event never sends twice.
-- Privacy: the recipient is kept only as a hash (to tell two contacts of one certificate apart) and in
-- masked form (for display); the message itself is never stored — it is rendered from the event when sent.
CREATE TABLE notifications (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- 'certified:<certificateId>', 'revoked:<certificateId>' or 'notify:<id or content hash>'.
  dedupe_key       text NOT NULL,
  channel          text NOT NULL CHECK (channel IN ('sms', 'email')),
  template         text NOT NULL,
  recipient_hash   text NOT NULL,
  -- e.g. ******2345 or a***@example.org
  recipient_masked text NOT NULL,
  -- The topic of the event that asked for the message.
  source_topic     text NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  -- Masked like the logs: never a phone number or an address in clear.
  last_error       text,
  -- A worker holds the row while it sends; another one waits until the lease is released or expires.
  locked_until     timestamptz,
  -- The id the gateway or SMTP server gave the message, when it gave one.
  provider_ref     text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz,
  UNIQUE (dedupe_key, channel, template, recipient_hash)
);
CREATE INDEX notifications_unsent ON notifications (updated_at) WHERE status <> 'sent';
