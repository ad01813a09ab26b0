/**
 * PKCE (RFC 7636), S256 only. Verifiers come from the platform CSPRNG through the wasm
 * core; `plain` is refused.
 */
import { core } from "./wasm.js";
import { coreCall } from "./errors.js";

/** A verifier and its challenge, ready for an authorization request. */
export interface PkcePair {
  verifier: string;
  challenge: string;
  method: "S256";
}

/** A fresh 43-character code verifier. */
export function generateVerifier(): string {
  return core().pkceGenerateVerifier();
}

/** `BASE64URL(SHA256(verifier))`; throws `ValidationError` for a malformed verifier. */
export function challenge(verifier: string): string {
  return coreCall(() => core().pkceChallenge(verifier));
}

/** Whether `verifier` matches `codeChallenge` (method must be `S256`). */
export function verify(codeChallenge: string, verifier: string, method = "S256"): boolean {
  return coreCall(() => core().pkceVerify(codeChallenge, method, verifier));
}

/** A new verifier with its S256 challenge. */
export function createPair(): PkcePair {
  const verifier = generateVerifier();
  return { verifier, challenge: challenge(verifier), method: "S256" };
}
