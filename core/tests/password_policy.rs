//! SPEC §5's password rules (`keyward_core::password_policy`): at least 8 characters, at
//! least 1,024 accepted, NFKC before anything else, never truncated, the bundled list of
//! at least 10,000 common passwords refused with a reason.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use keyward_core::ErrorCode;
use keyward_core::password_policy::{
    COMMON_PASSWORDS, MAX_CHARS, MIN_CHARS, PasswordRejection, is_common, prepare,
};

/// A password of exactly `n` characters that is in no list (a repeated non-word).
fn of_len(n: usize) -> String {
    "zq7#kLp!Xw".chars().cycle().take(n).collect()
}

fn prepared(password: &str) -> String {
    prepare(password)
        .unwrap_or_else(|e| panic!("{password:?} refused: {e}"))
        .expose()
        .to_string()
}

#[test]
fn eight_characters_is_the_minimum() {
    assert_eq!(MIN_CHARS, 8);
    assert_eq!(prepare(&of_len(7)), Err(PasswordRejection::TooShort));
    assert_eq!(prepared(&of_len(8)), of_len(8));
    assert_eq!(prepare(""), Err(PasswordRejection::TooShort));
    // Characters, not bytes: 8 three-byte characters are enough, 7 are not.
    assert_eq!(prepared("€€€€€€€€"), "€€€€€€€€");
    assert_eq!(prepare("€€€€€€€"), Err(PasswordRejection::TooShort));
}

#[test]
fn long_passwords_are_accepted_whole_up_to_4096() {
    assert_eq!(MAX_CHARS, 4_096);
    for n in [1_024, MAX_CHARS] {
        let password = of_len(n);
        assert_eq!(
            prepared(&password),
            password,
            "{n} characters, not truncated"
        );
    }
    assert_eq!(
        prepare(&of_len(MAX_CHARS + 1)),
        Err(PasswordRejection::TooLong)
    );
    // Counted in characters after NFKC: 4,096 four-byte characters are fine.
    let emoji = "🔑".repeat(MAX_CHARS);
    assert_eq!(prepared(&emoji).chars().count(), MAX_CHARS);
    assert_eq!(
        prepare(&"🔑".repeat(MAX_CHARS + 1)),
        Err(PasswordRejection::TooLong)
    );
}

#[test]
fn common_passwords_are_refused_in_any_case() {
    for common in [
        "password",
        "PASSWORD",
        "Password",
        "password1",
        "Password1",
        "PaSsW0rD",
        "iloveyou1",
        "qwertyuiop",
        "ｐａｓｓｗｏｒｄ", // full-width: NFKC first, then the list
    ] {
        assert!(is_common(common), "{common}");
        assert_eq!(prepare(common), Err(PasswordRejection::Common), "{common}");
    }
    assert!(!is_common("correct horse battery staple"));
    assert!(!is_common(&of_len(12)));
    // A common password inside a longer one is not the common password.
    assert_eq!(prepared("password1 but longer"), "password1 but longer");
}

#[test]
fn the_bundled_list_is_large_sorted_deduplicated_and_normalised() {
    assert!(
        COMMON_PASSWORDS.ends_with('\n') && !COMMON_PASSWORDS.contains('\r'),
        "\\n line ends"
    );
    let entries: Vec<&str> = COMMON_PASSWORDS.lines().collect();
    assert!(entries.len() >= 10_000, "{} entries", entries.len());
    assert!(
        entries
            .windows(2)
            .all(|w| w[0].as_bytes() < w[1].as_bytes()),
        "strictly increasing bytewise: sorted and without duplicates"
    );
    for entry in &entries {
        assert!(
            entry.chars().count() >= MIN_CHARS,
            "{entry:?} is refused by length anyway"
        );
        assert!(
            entry
                .bytes()
                .all(|b| (0x20..0x7f).contains(&b) && !b.is_ascii_uppercase()),
            "{entry:?} is lowercase printable ASCII (hence NFKC)"
        );
    }
}

#[test]
fn nfkc_makes_keyboard_variants_one_password() {
    // Full-width letters, as a CJK input method types them.
    let fullwidth = "ｃｏｒｒｅｃｔ-horse-9";
    assert_eq!(prepared(fullwidth), "correct-horse-9");
    assert_eq!(prepare(fullwidth), prepare("correct-horse-9"));
    // "é" precomposed (U+00E9) and as "e" + COMBINING ACUTE ACCENT (U+0301).
    let precomposed = "caf\u{e9}-au-lait";
    let combining = "cafe\u{301}-au-lait";
    assert_ne!(precomposed, combining);
    assert_eq!(prepare(precomposed), prepare(combining));
    assert_eq!(prepared(combining), precomposed, "NFKC composes");
}

#[test]
fn length_is_counted_after_nfkc() {
    // 8 scalar values as typed, 7 after NFKC ("e" + U+0301 becomes one "é").
    let decomposed = "abcdefe\u{301}";
    assert_eq!(decomposed.chars().count(), 8);
    assert_eq!(prepare(decomposed), Err(PasswordRejection::TooShort));
    // 5 as typed, 11 after NFKC (the ligature "ﬃ" is three letters).
    let ligatures = "ab\u{fb03}\u{fb03}\u{fb03}";
    assert_eq!(ligatures.chars().count(), 5);
    assert_eq!(prepared(ligatures), "abffiffiffi");
}

#[test]
fn control_characters_are_refused_and_spaces_are_not() {
    for bad in [
        "correct\thorse",
        "correct horse\n",
        "correct horse\r\n",
        "\0correct horse",
        "correct\u{7f}horse",
        "correct\u{85}horse", // C1 NEXT LINE
        "\u{1b}[0mcorrect",
    ] {
        assert_eq!(
            prepare(bad),
            Err(PasswordRejection::ControlCharacter),
            "{bad:?}"
        );
    }
    // Spaces, emoji with zero-width joiners and other scripts are passwords like any.
    for good in [
        " correct horse battery staple ",
        "👩\u{200d}💻👩\u{200d}💻 secret",
        "пароль-для-входа",
        "كلمة المرور الطويلة",
    ] {
        assert_eq!(prepared(good), good, "{good:?}");
    }
}

#[test]
fn rejections_have_stable_codes_and_user_facing_reasons() {
    let expected = [
        (
            PasswordRejection::TooShort,
            "password_too_short",
            "password must be at least 8 characters",
        ),
        (
            PasswordRejection::TooLong,
            "password_too_long",
            "password must be at most 4096 characters",
        ),
        (
            PasswordRejection::Common,
            "password_common",
            "this password is too common; choose another",
        ),
        (
            PasswordRejection::ControlCharacter,
            "password_control_character",
            "password must not contain control characters such as tab or newline",
        ),
    ];
    for (rejection, code, reason) in expected {
        assert_eq!(rejection.code(), code);
        assert_eq!(rejection.to_string(), reason);
    }
}

#[test]
fn the_prepared_password_stays_secret() {
    let secret = prepare("correct horse battery staple").expect("accepted");
    assert_eq!(format!("{secret:?}"), "SecretString([redacted])");
}
