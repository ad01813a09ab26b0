/** `.wasm` imports, as Workers bundlers provide them. */
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
