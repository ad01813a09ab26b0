-- The org's webhook signing secret (issue 10), sealed: XChaCha20-Poly1305 under a key
-- derived from the SIGNING_SECRET Worker secret (keyward_core::sealed), bound to the org
-- id. A copy of D1 alone cannot sign. See worker/STORAGE.md.

CREATE TABLE webhook_secrets (
  org_id     TEXT PRIMARY KEY,
  sealed     TEXT NOT NULL,      -- base64url(nonce ‖ ciphertext ‖ tag) of the whsec_ text
  created_at INTEGER NOT NULL,
  rotated_at INTEGER            -- the last rotation; at most one per 60 minutes
);
