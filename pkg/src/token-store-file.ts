/**
 * A token file for Node (the CLI, scripts): mode 0600 in a 0700 directory, written
 * atomically (a temporary file renamed over the old one), and locked for refreshes so
 * that two processes sharing the file never present the same refresh token twice.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { KeywardError } from "./errors.js";
import type { StoredTokens, TokenStore } from "./oauth.js";

/** A lock older than this was left by a process that died mid-refresh. */
const STALE_LOCK_MS = 30_000;
/** How long to wait for another process's refresh before giving up. */
const LOCK_WAIT_MS = 20_000;

function isStoredTokens(value: unknown): value is StoredTokens {
  const v = value as Partial<StoredTokens> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.issuer === "string" &&
    typeof v.clientId === "string" &&
    typeof v.accessToken === "string" &&
    typeof v.expiresAt === "number" &&
    (v.refreshToken === undefined || typeof v.refreshToken === "string")
  );
}

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;

export class FileTokenStore implements TokenStore {
  readonly path: string;

  constructor(file: string) {
    this.path = file;
  }

  async load(): Promise<StoredTokens | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if (errno(err) === "ENOENT") return undefined;
      throw err;
    }
    const parsed: unknown = JSON.parse(text);
    if (!isStoredTokens(parsed)) throw new KeywardError(`${this.path} is not a Keyward token file`, "invalid_token_file");
    return parsed;
  }

  async save(tokens: StoredTokens): Promise<void> {
    await mkdir(path.dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    const file = await open(temporary, "wx", 0o600);
    try {
      await file.writeFile(`${JSON.stringify(tokens, null, 2)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, this.path);
  }

  async clear(): Promise<void> {
    await rm(this.path, { force: true });
  }

  /** Runs `task` holding `<file>.lock` (created with O_EXCL; a stale one is broken). */
  async exclusive<T>(task: () => Promise<T>): Promise<T> {
    await mkdir(path.dirname(this.path), { recursive: true, mode: 0o700 });
    const lock = `${this.path}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(lock, "wx", 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        break;
      } catch (err) {
        if (errno(err) !== "EEXIST") throw err;
        const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > STALE_LOCK_MS) {
          await rm(lock, { force: true });
          continue;
        }
        if (Date.now() > deadline) throw new KeywardError(`timed out waiting for ${lock}`, "token_file_locked");
        await new Promise((r) => setTimeout(r, 25 + Math.random() * 75));
      }
    }
    try {
      return await task();
    } finally {
      await rm(lock, { force: true });
    }
  }
}
