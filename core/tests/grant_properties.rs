//! Properties of the grant state machine (`keyward_core::oauth::grant`), over random
//! sequences of exchanges, refreshes (of the current, a rotated, or a never-issued
//! token, by the right or another client), revocations and clock steps:
//!
//! - a grant that has ended never issues again;
//! - the code is exchanged at most once;
//! - at most one successor of any refresh token exists (also with a grace period:
//!   a repeat inside it issues nothing);
//! - without a grace period, presenting a rotated refresh token always ends the grant.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::HashMap;

use keyward_core::oauth::grant::{
    Ending, Exchange, Grant, Issue, Lifetimes, Outcome, PendingCode, Refresh,
};
use keyward_core::oauth::scope::Scopes;
use proptest::prelude::*;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"; // RFC 7636 Appendix B
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "http://127.0.0.1/cb";

#[derive(Clone, Debug)]
enum Op {
    Exchange {
        right_code: bool,
        right_client: bool,
        right_verifier: bool,
    },
    Refresh {
        pick: Pick,
        right_client: bool,
    },
    Revoke,
    Advance(u64),
}

#[derive(Clone, Debug)]
enum Pick {
    Current,
    Rotated(usize),
    Never,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(a, b, c)| Op::Exchange {
            right_code: a,
            right_client: b,
            right_verifier: c
        }),
        4 => (prop_oneof![Just(Pick::Current), (0usize..6).prop_map(Pick::Rotated), Just(Pick::Never)], prop::bool::weighted(0.9))
            .prop_map(|(pick, right_client)| Op::Refresh { pick, right_client }),
        1 => Just(Op::Revoke),
        2 => (0u64..8).prop_map(Op::Advance),
    ]
}

/// A fresh, distinct hash per call.
fn mint(counter: &mut u64) -> [u8; 32] {
    *counter += 1;
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&counter.to_le_bytes());
    hash[31] = 0xAA;
    hash
}

fn run(ops: &[Op], grace: u64) -> Result<(), TestCaseError> {
    let lifetimes = Lifetimes::default();
    let code = [0xC0; 32];
    let mut grant = Grant::pending(
        "a".into(),
        Scopes::parse("keyward:api").expect("valid"),
        PendingCode {
            hash: code,
            expires_at: 10_000,
            redirect_uri: REDIRECT.into(),
            challenge: CHALLENGE.into(),
        },
    );
    let mut now = 1_000u64;
    let mut counter = 0u64;
    let mut current: Option<[u8; 32]> = None;
    let mut rotated: Vec<[u8; 32]> = Vec::new(); // newest first
    let mut successors: HashMap<[u8; 32], u32> = HashMap::new();
    let mut exchanges = 0;
    for op in ops {
        let was_ended = grant.ended().is_some();
        let access = mint(&mut counter);
        let refresh = mint(&mut counter);
        let issue = Issue {
            access,
            refresh: Some(refresh),
        };
        let (next, outcome, presented) = match op {
            Op::Exchange {
                right_code,
                right_client,
                right_verifier,
            } => {
                let input = Exchange {
                    code_hash: if *right_code { code } else { [0x0D; 32] },
                    client_id: if *right_client { "a" } else { "b" },
                    redirect_uri: Some(REDIRECT),
                    code_verifier: Some(if *right_verifier { VERIFIER } else { CHALLENGE }),
                };
                let (g, o) = grant.exchange(&input, now, lifetimes, issue);
                if matches!(o, Outcome::Issued { .. }) {
                    exchanges += 1;
                }
                (g, o, None)
            }
            Op::Refresh { pick, right_client } => {
                let token = match pick {
                    Pick::Current => current,
                    Pick::Rotated(i) => rotated.get(*i).copied(),
                    Pick::Never => Some(mint(&mut counter)),
                };
                let Some(token) = token else { continue };
                let input = Refresh {
                    token_hash: token,
                    client_id: if *right_client { "a" } else { "b" },
                    scope: None,
                };
                let was_rotated = rotated.contains(&token);
                let (g, o) = grant.refresh(&input, now, lifetimes, grace, issue);
                if grace == 0 && was_rotated && *right_client {
                    prop_assert!(
                        matches!(
                            o,
                            Outcome::Ended(Ending::RefreshReuse) | Outcome::AlreadyEnded(_)
                        ),
                        "reuse of a rotated token must end the grant, got {o:?}"
                    );
                    prop_assert!(g.ended().is_some());
                }
                (g, o, Some(token))
            }
            Op::Revoke => {
                let (g, o) = grant.revoke(now);
                prop_assert!(g.ended().is_some());
                (g, o, None)
            }
            Op::Advance(secs) => {
                now += secs;
                continue;
            }
        };
        if let Outcome::Issued { .. } = outcome {
            prop_assert!(!was_ended, "an ended grant issued tokens");
            if let Some(from) = presented {
                let n = successors.entry(from).or_default();
                *n += 1;
                prop_assert!(*n <= 1, "a refresh token got a second successor");
            }
            if let (Some(old), Some(_)) = (current.replace(refresh), presented) {
                rotated.insert(0, old);
            }
            prop_assert!(next.check_access(&access, now).is_ok());
        }
        if let Some((ending, _)) = next.ended() {
            prop_assert!(next.check_access(&access, now).is_err());
            if !was_ended && ending == Ending::RefreshReuse {
                let from_refresh = matches!(op, Op::Refresh { .. });
                prop_assert!(from_refresh, "only a refresh detects reuse");
            }
        }
        grant = next;
    }
    prop_assert!(exchanges <= 1, "the code was exchanged {exchanges} times");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn strict_rotation_holds_its_properties(ops in prop::collection::vec(op(), 1..40)) {
        run(&ops, 0)?;
    }

    #[test]
    fn rotation_with_a_grace_period_holds_its_properties(ops in prop::collection::vec(op(), 1..40)) {
        run(&ops, 5)?;
    }
}
