//! Native timings of the core's hot operations, one JSON line per workload:
//! `{"workload": "...", "ms_per_op": N}`. Run by `npm run bench` (scripts/bench.mjs).

use std::hint::black_box;
use std::time::{Duration, Instant};

use keyward_core::api_key::{KeyPrefix, LookupKey, lookup_hash};
use keyward_core::digest::{hmac_sha256, sha256};
use keyward_core::password::{Argon2Profile, argon2id_raw};
use keyward_core::testing::SeededRng;

/// Runs `op` repeatedly for about `budget` (at least 3 times) and returns ms per call.
fn time(budget: Duration, mut op: impl FnMut()) -> f64 {
    op(); // warm-up
    let start = Instant::now();
    let mut n = 0u32;
    while n < 3 || start.elapsed() < budget {
        op();
        n += 1;
    }
    start.elapsed().as_secs_f64() * 1000.0 / f64::from(n)
}

fn report(workload: &str, ms: f64) {
    println!("{{\"workload\": \"{workload}\", \"ms_per_op\": {ms}}}");
}

fn main() {
    let budget = Duration::from_millis(700);
    let salt = [7u8; 16];
    for (name, profile) in [
        ("argon2id_m19456_t2", Argon2Profile::PASSWORD),
        ("argon2id_light_m4096_t2", Argon2Profile::LIGHT),
    ] {
        report(
            name,
            time(budget, || {
                black_box(
                    argon2id_raw(b"correct horse battery", &salt, &[], &[], profile, 32)
                        .expect("valid"),
                );
            }),
        );
    }
    let key = "ptmc_zI7yqBgWoCemHre5bJA3t_g8elCHlB7fK6mNk1tIan0";
    for iterations in [1_000, 10_000] {
        report(
            &format!("pbkdf2_sha256_{iterations}"),
            time(budget, || {
                black_box(lookup_hash(
                    key.as_bytes(),
                    b"server-hash-secret",
                    iterations,
                ));
            }),
        );
    }
    report(
        "sha256_43B",
        time(budget, || {
            black_box(sha256(black_box(key.as_bytes())));
        }),
    );
    report(
        "hmac_sha256_43B",
        time(budget, || {
            black_box(hmac_sha256(
                b"server-hash-secret",
                &[black_box(key.as_bytes())],
            ));
        }),
    );
    let prefix = KeyPrefix::new("ptmc").expect("valid");
    let mut rng = SeededRng::new(1);
    report(
        "key_generate_parse",
        time(budget, || {
            let minted = LookupKey::generate(&prefix, &mut rng);
            black_box(LookupKey::parse(&prefix, minted.expose()).expect("parses"));
        }),
    );
}
