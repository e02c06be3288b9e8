//! A deterministic random generator for the tests that try many generated inputs: xorshift64,
//! seeded by each test, so a failure shows the same input on every run.

pub(crate) struct XorShift(u64);

impl XorShift {
    /// A generator starting from `seed`, which must not be 0 (xorshift stays at 0).
    pub(crate) fn new(seed: u64) -> XorShift {
        XorShift(seed)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}
