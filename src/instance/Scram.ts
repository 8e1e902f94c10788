/**
 * SCRAM-SHA-256 password verifiers, computed here so that passwords never travel in SQL text
 * (where a `log_statement` setting could log them). Same format as PostgreSQL's.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto"

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` for `password`. */
export const scramVerifier = (password: string, salt: Uint8Array = randomBytes(16), iterations = 4096): string => {
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, iterations, 32, "sha256")
  const clientKey = createHmac("sha256", salted).update("Client Key").digest()
  const storedKey = createHash("sha256").update(clientKey).digest()
  const serverKey = createHmac("sha256", salted).update("Server Key").digest()
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64")
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`
}
