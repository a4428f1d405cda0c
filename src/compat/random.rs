//! Python's `random.Random` as Ansible's `random` and `shuffle` filters use it with a `seed`:
//! the Mersenne Twister seeded as Python seeds it from an int or a str, and `randrange`,
//! `choice` and `shuffle` drawing from it as Python 3.11 does.

use rand_mt::Mt;
use sha2::{Digest, Sha512};

/// A seed as Python's `random.seed` takes it.
#[derive(Debug, Clone)]
pub enum Seed<'a> {
    Int(i128),
    Str(&'a str),
}

/// `random.Random(seed)`.
pub struct PyRandom {
    mt: Mt,
}

impl PyRandom {
    pub fn new(seed: Seed<'_>) -> PyRandom {
        // The seed as a non-negative int, its 32-bit words from the lowest (`init_by_array`).
        let be_bytes: Vec<u8> = match seed {
            Seed::Int(n) => n.unsigned_abs().to_be_bytes().to_vec(),
            // Version 2 seeding: the text's UTF-8 followed by its SHA-512, read big-endian.
            Seed::Str(text) => {
                let mut bytes = text.as_bytes().to_vec();
                bytes.extend_from_slice(&Sha512::digest(text.as_bytes()));
                bytes
            }
        };
        let mut words: Vec<u32> = be_bytes
            .rchunks(4)
            .map(|chunk| chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
            .collect();
        while words.len() > 1 && words.last() == Some(&0) {
            words.pop();
        }
        PyRandom {
            mt: Mt::new_with_key(words),
        }
    }

    /// `getrandbits(k)` for `k` up to 64.
    pub fn getrandbits(&mut self, k: u32) -> u64 {
        if k == 0 {
            return 0;
        }
        if k <= 32 {
            return u64::from(self.mt.next_u32() >> (32 - k));
        }
        let low = u64::from(self.mt.next_u32());
        let high = u64::from(self.mt.next_u32() >> (64 - k.min(64)));
        (high << 32) | low
    }

    /// `_randbelow(n)`: a number in `0..n`, by rejection of `n.bit_length()` random bits.
    pub fn randbelow(&mut self, n: u64) -> u64 {
        let k = 64 - n.leading_zeros();
        let mut r = self.getrandbits(k);
        while r >= n {
            r = self.getrandbits(k);
        }
        r
    }

    /// `randrange(start, stop, step)`; `None` where Python raises (an empty range, a zero step).
    pub fn randrange(&mut self, start: i64, stop: i64, step: i64) -> Option<i64> {
        let width = i128::from(stop) - i128::from(start);
        let step128 = i128::from(step);
        let n = match step {
            0 => return None,
            s if s > 0 => (width + step128 - 1).div_euclid(step128),
            _ => (width + step128 + 1).div_euclid(step128),
        };
        if n <= 0 {
            return None;
        }
        let pick = i128::from(self.randbelow(u64::try_from(n).ok()?));
        i64::try_from(i128::from(start) + step128 * pick).ok()
    }

    /// `choice(seq)` of a sequence of `len` items: the index drawn.
    pub fn choice(&mut self, len: usize) -> Option<usize> {
        (len > 0).then(|| self.randbelow(len as u64) as usize)
    }

    /// `shuffle(list)`, in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.randbelow(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values printed by Python 3.11's random.Random.
    #[test]
    fn draws_as_python_does() {
        let mut r = PyRandom::new(Seed::Int(42));
        assert_eq!(r.getrandbits(32), 2746317213);
        let mut r = PyRandom::new(Seed::Int(42));
        assert_eq!(r.randrange(0, 100, 1), Some(81));
        let mut r = PyRandom::new(Seed::Str("web1"));
        assert_eq!(r.randrange(0, 60, 1), Some(PYTHON_WEB1_60));
        let mut items = vec![1, 2, 3, 4, 5];
        PyRandom::new(Seed::Int(7)).shuffle(&mut items);
        assert_eq!(items, PYTHON_SHUFFLE_7);
        let mut r = PyRandom::new(Seed::Int(-5));
        assert_eq!(r.randrange(10, 20, 3), Some(PYTHON_NEG5_STEP3));
        assert_eq!(r.randrange(5, 5, 1), None);
        assert_eq!(PyRandom::new(Seed::Int((1 << 40) + 3)).randrange(0, 1000, 1), Some(225));
        assert_eq!(PyRandom::new(Seed::Str("")).randrange(0, 1000, 1), Some(983));
    }

    const PYTHON_WEB1_60: i64 = 52;
    const PYTHON_SHUFFLE_7: [i32; 5] = [5, 1, 4, 2, 3];
    const PYTHON_NEG5_STEP3: i64 = 16;
}
