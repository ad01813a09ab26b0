/**
 * Where the CLI keeps what it knows: `$XDG_CONFIG_HOME/keyward/` (else
 * `~/.config/keyward/`), a 0700 directory. One profile per endpoint, a 0600 token file
 * (`FileTokenStore`) named after the endpoint, and `config.json` naming the endpoint used
 * last, so commands after `keyward login` need no `--endpoint`.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { FileTokenStore } from "../token-store-file.js";

/** The CLI's directory. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(os.homedir(), ".config");
  return path.join(base, "keyward");
}

/** The token file of `endpoint` (an origin): safe as a file name, one per endpoint. */
export function profileStore(endpoint: string, env: NodeJS.ProcessEnv = process.env): FileTokenStore {
  const name = new URL(endpoint).host.replace(/[^a-zA-Z0-9.-]/g, "_");
  return new FileTokenStore(path.join(configDir(env), "profiles", `${name}.json`));
}

interface Config {
  endpoint?: string;
}

async function readConfig(env: NodeJS.ProcessEnv): Promise<Config> {
  try {
    return JSON.parse(await readFile(path.join(configDir(env), "config.json"), "utf8")) as Config;
  } catch {
    return {};
  }
}

/** The endpoint used last (`keyward login` records it). */
export async function lastEndpoint(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  return (await readConfig(env)).endpoint;
}

export async function rememberEndpoint(endpoint: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const dir = configDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(path.join(dir, "config.json"), `${JSON.stringify({ ...(await readConfig(env)), endpoint }, null, 2)}\n`, { mode: 0o600 });
}
