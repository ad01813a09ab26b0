//! Deterministic RNGs for tests and benchmarks (feature `test-util`).
//!
//! They claim [`rand_core::TryCryptoRng`] only so that tests can drive the same
//! functions production calls; their output is predictable by design. Production code
//! passes the platform CSPRNG (`getrandom`) instead, and the feature is off by default.

use alloc::vec::Vec;
use core::convert::Infallible;
use rand_core::{TryCryptoRng, TryRng};

/// A SplitMix64 stream from a seed: a fixed clock's counterpart for randomness.
#[derive(Clone, Debug, Default)]
pub struct SeededRng(u64);

impl SeededRng {
    /// A stream that depends only on `seed`.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl TryRng for SeededRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let word = self.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Ok(())
    }
}

impl TryCryptoRng for SeededRng {}

/// Answers each `fill_bytes` call with the next scripted byte string (repeated or cut
/// to the requested length), then with zeros: for tests that need a given draw.
#[derive(Clone, Debug)]
pub struct ScriptedRng {
    draws: Vec<Vec<u8>>,
    next: usize,
}

impl ScriptedRng {
    /// A generator that returns `draws` in order.
    #[must_use]
    pub fn new(draws: &[&[u8]]) -> Self {
        Self {
            draws: draws.iter().map(|d| d.to_vec()).collect(),
            next: 0,
        }
    }
}

impl TryRng for ScriptedRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        match self.draws.get(self.next) {
            Some(draw) if !draw.is_empty() => {
                for (slot, byte) in dst.iter_mut().zip(draw.iter().cycle()) {
                    *slot = *byte;
                }
            }
            _ => dst.fill(0),
        }
        self.next += 1;
        Ok(())
    }
}

impl TryCryptoRng for ScriptedRng {}
