/**
 * Where the wasm core comes from on this platform. Each entry point (`node.ts`,
 * `browser.ts`, `workerd.ts`) registers its source here when it is imported; nothing is
 * read, fetched or compiled until a helper first needs the core (`wasm.ts`).
 *
 * This module is deliberately tiny and imports nothing: an entry's registration is a
 * side effect every bundle keeps, so it must not drag the wasm glue into a bundle that
 * only uses `Client`.
 */

/** What the glue's `initSync` (a module or bytes) or async `init` (also a URL or a Response) accept. */
export type WasmSource =
  | WebAssembly.Module
  | BufferSource
  | Response
  | Promise<Response>
  | URL
  | string;

/** A platform's way to obtain the core. */
export interface WasmProvider {
  /**
   * Returns the core synchronously (a compiled module or its bytes), where the platform
   * can: Node reads the file, workerd has the module imported. Absent in browsers.
   */
  sync?: () => WebAssembly.Module | BufferSource;
  /** Returns the core asynchronously (browsers fetch it beside the package). */
  async: () => WasmSource;
}

let provider: WasmProvider | undefined;

/** Called once by the entry point being imported. */
export function provideWasm(p: WasmProvider): void {
  provider = p;
}

/** The registered provider (undefined if a module was imported without an entry point). */
export function wasmProvider(): WasmProvider | undefined {
  return provider;
}
