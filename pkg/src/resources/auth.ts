/**
 * `/auth/*`: a person's account (bare JSON bodies). Login, signup, email verification,
 * password reset and invitation acceptance are public: they never send the client's
 * token. Logout, orgs and password change act on the session of the client's token (a
 * JWT from `login`): use `client.withToken(token)`.
 */
import { type CallOptions, type Transport, callOptions } from "../http.js";
import type { Role } from "./members.js";

/** `POST /auth/login`. */
export interface LoginInput {
  /** The email address. */
  identifier: string;
  /** The password. */
  secret: string;
  /** The org to sign in to; default: the one used last. */
  org_id?: string;
}

/** A new session: `token` is the session JWT (1 hour by default). */
export interface LoginResult {
  token: string;
  entity_id: string;
  session_id: string;
  expires_at: string;
}

/** One of the signed-in person's orgs. */
export interface OrgMembership {
  org_id: string;
  name: string;
  personal: boolean;
  entity_id: string;
  role: Role;
  status: string;
  /** The org of this session. */
  current: boolean;
  joined_at: string;
}

/** The one answer of signup and of a verification resend, whatever the address. */
export interface VerificationSent {
  status: "verification_sent";
  email: string;
  message: string;
}

/** The one answer of a reset request, whatever the address. */
export interface ResetSent {
  status: "reset_sent";
  email: string;
  message: string;
}

export interface SignupInput {
  name: string;
  email: string;
  password: string;
}

export interface ChangePasswordInput {
  current: string;
  password: string;
}

export interface ConfirmPasswordResetInput {
  /** The `{p}r_` token from the reset mail. */
  token: string;
  password: string;
}

export interface AcceptInvitationInput {
  /** The `{p}i_` token from the invitation mail. */
  token: string;
  /** Required when the address has no account yet (accepting creates it). */
  password?: string;
}

export interface InvitationAccepted {
  org_id: string;
  entity_id: string;
  role: Role;
  account_created: boolean;
}

export class Auth {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** Signs in with a password; returns the session token. Never retried. */
  async login(input: LoginInput, options?: CallOptions): Promise<LoginResult> {
    return this.#http.json({ method: "POST", path: "/auth/login", json: input, auth: false, ...callOptions(options) });
  }

  /** Ends the session of the client's token (a session JWT). */
  async logout(options?: CallOptions): Promise<{ session_id: string; revoked: true }> {
    return this.#http.json({ method: "POST", path: "/auth/logout", ...callOptions(options) });
  }

  /** The signed-in person's orgs, with their role and status in each (needs a session token). */
  async orgs(options?: CallOptions): Promise<OrgMembership[]> {
    const body = await this.#http.json<{ items: OrgMembership[] }>({ method: "GET", path: "/auth/orgs", ...callOptions(options) });
    return body.items;
  }

  /** Self-registration (when the deployment allows it); a verification link is mailed. */
  async signup(input: SignupInput, options?: CallOptions): Promise<VerificationSent> {
    return this.#http.json({ method: "POST", path: "/auth/signup", json: input, auth: false, ...callOptions(options) });
  }

  /** Proves an address with the token of a verification mail. Never retried: the token is single-use. */
  async verifyEmail(token: string, options?: CallOptions): Promise<{ verified: true; account_id: string; email: string }> {
    return this.#http.json({ method: "GET", path: "/auth/email/verify", query: { token }, auth: false, idempotent: false, ...callOptions(options) });
  }

  /** Sends a new verification link (the same answer whether or not the address exists). */
  async resendVerification(email: string, options?: CallOptions): Promise<VerificationSent> {
    return this.#http.json({ method: "POST", path: "/auth/email/resend", json: { email }, auth: false, ...callOptions(options) });
  }

  /** Changes the signed-in person's password; their other sessions end. */
  async changePassword(input: ChangePasswordInput, options?: CallOptions): Promise<{ changed: true; credential_id: string; other_sessions_ended: true }> {
    return this.#http.json({ method: "POST", path: "/auth/password/change", json: input, ...callOptions(options) });
  }

  /** Mails a single-use reset link (the same answer for every address). */
  async requestPasswordReset(email: string, options?: CallOptions): Promise<ResetSent> {
    return this.#http.json({ method: "POST", path: "/auth/password/reset", json: { email }, auth: false, ...callOptions(options) });
  }

  /** Sets a new password with a reset token; every session of the account ends. */
  async confirmPasswordReset(input: ConfirmPasswordResetInput, options?: CallOptions): Promise<{ reset: true; credential_id: string; sessions_ended: true }> {
    return this.#http.json({ method: "POST", path: "/auth/password/reset/confirm", json: input, auth: false, ...callOptions(options) });
  }

  /** Joins the org of an invitation (creating the account, with `password`, if the address had none). */
  async acceptInvitation(input: AcceptInvitationInput, options?: CallOptions): Promise<InvitationAccepted> {
    return this.#http.json({ method: "POST", path: "/auth/invitations/accept", json: input, auth: false, ...callOptions(options) });
  }
}
