/**
 * keyward: the JavaScript SDK of Keyward.
 *
 * - `Client`: the service's HTTP API (no wasm: importing it loads none).
 * - Helpers backed by the Rust core compiled to WebAssembly, so the SDK, the service and
 *   the native tests make the same decisions: `parseKey`, `keyPrefix`, `pkce`,
 *   `verifyWebhook`, `signWebhook`, `checkNamespaceName`, `checkNamespaceKey`. The core
 *   loads on first use (`ready()` once in browsers; see `wasm.ts`).
 *
 * - OAuth for public clients (`discover`, `register`, `authorizationRequest`,
 *   `exchangeCode`, `OAuthSession`: a `TokenSource` that refreshes itself), with tokens in
 *   memory (`MemoryTokenStore`; in Node also `keyward/file-token-store`).
 *
 * The entry points (`node.ts`, `browser.ts`, `workerd.ts`) only differ in where the wasm
 * comes from.
 */
export { Client } from "./client.js";
export type { Whoami } from "./client.js";
export type { ClientOptions } from "./options.js";
export type { CallOptions, FetchLike, Page } from "./http.js";
export type { RetryOptions } from "./retry.js";
export { Paginated } from "./pages.js";
export type { PageFetcher } from "./pages.js";
// The areas of a Client (`client.apiKeys`, …): types only, for the reference and for
// callers' annotations; they are reached through a Client, never constructed alone.
export type { ApiKeys } from "./resources/api-keys.js";
export type { Audit } from "./resources/audit.js";
export type { Auth } from "./resources/auth.js";
export type { Credentials, Entities } from "./resources/entities.js";
export type { Grants } from "./resources/grants.js";
export type { Invitations, Members } from "./resources/members.js";
export type { Namespaces } from "./resources/namespaces.js";
export type { WebhookSecrets, Webhooks } from "./resources/webhooks.js";
export type {
  CreateWebhookInput,
  UpdateWebhookInput,
  WebhookAttempt,
  WebhookDelivery,
  WebhookDeliveryDetail,
  WebhookEndpoint,
  WebhookEvent,
  WebhookEventType,
  WebhookSecret,
} from "./resources/webhooks.js";
export type { ListOptions, PageOptions } from "./pages.js";
export type { ApiKey, CreateApiKeyInput, CreatedApiKey, UpdateApiKeyInput } from "./resources/api-keys.js";
export type { AuditEvent, AuditListOptions } from "./resources/audit.js";
export type {
  AcceptInvitationInput,
  ChangePasswordInput,
  ConfirmPasswordResetInput,
  InvitationAccepted,
  LoginInput,
  LoginResult,
  OrgMembership,
  ResetSent,
  SignupInput,
  VerificationSent,
} from "./resources/auth.js";
export type {
  AddCertificateInput,
  CreateCredentialApiKeyInput,
  CreateEntityInput,
  CreatedCertificate,
  CreatedCredentialApiKey,
  CreatedPassword,
  Credential,
  Entity,
  EntityKind,
  EntityStatus,
  UpdateEntityInput,
} from "./resources/entities.js";
export type { Grant } from "./resources/grants.js";
export type { AddMemberInput, Invitation, Member, MemberAddition, Role } from "./resources/members.js";
export type {
  DeleteKeyResult,
  ListKeysOptions,
  Namespace,
  NamespaceValue,
  PutKeyResult,
} from "./resources/namespaces.js";
export {
  AuthenticationError,
  ConflictError,
  KeywardError,
  NetworkError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ValidationError,
  WebhookVerificationError,
} from "./errors.js";
export type { TokenSource } from "./token-source.js";
export {
  MemoryTokenStore,
  OAuthSession,
  authorizationRequest,
  discover,
  exchangeCode,
  refreshTokens,
  register,
  revoke,
} from "./oauth.js";
export type { AuthorizationRequest, Discovered, OAuthOptions, StoredTokens, TokenStore } from "./oauth.js";
export { ready } from "./wasm.js";
export type { ReadyOptions } from "./wasm.js";
export type { WasmSource } from "./wasm-source.js";
export { keyPrefix, parseKey } from "./keys.js";
export type { ParseKeyOptions, ParsedKey } from "./keys.js";
export { checkNamespaceKey, checkNamespaceName } from "./namespace-names.js";
export * as pkce from "./pkce.js";
export type { PkcePair } from "./pkce.js";
export { signWebhook, verifyWebhook } from "./webhook.js";
export type { VerifyWebhookOptions, WebhookHeaders } from "./webhook.js";
export { VERSION } from "./version.js";
